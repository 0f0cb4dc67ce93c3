"""Recording what each layer of an encoder saw in one forward call.

:class:`TapeRecorder` registers forward hooks on the layers that have a rule
in the layer map and on the blocks of the registered families
(:mod:`.archs`) for the duration of one ``with`` block (removed in
``finally``, so no state outlives the call and nothing is stored on the
modules), and writes a :class:`~.records.Tape`.

The tape holds the live tensors of the forward pass (with their autograd
history), so relevance computed from it is differentiable w.r.t. the
encoder's weights and inputs. Layer references are taken from the modules at
call time, never cached across calls (mmengine may swap BN modules for
SyncBN after the model is built).
"""
from typing import List, Optional

import torch.nn as nn

from .archs import BlockAdapter, block_adapter, recorded_layers
from .functional import full_precision
from .records import LayerRecord, Tape
from .rule_map import LayerMap


class TapeRecorder:
    """Record a tape of one forward call through ``root``.

    Use as::

        with TapeRecorder(backbone) as rec:
            feats = backbone(x)
        tape = rec.tape

    Args:
        root: The module whose forward is recorded (e.g. the backbone).
        layer_map: Which leaf layers have a rule (default: the registered
            families' map).
    """

    def __init__(self, root: nn.Module,
                 layer_map: Optional[LayerMap] = None) -> None:
        self.root = root
        self.layer_map = layer_map
        self.tape = Tape()
        self._stack: List[Tape] = []
        self._handles: list = []

    def __enter__(self) -> 'TapeRecorder':
        self.tape = Tape()
        self._stack = [self.tape]
        extra = []
        for name, module in recorded_layers(self.root, self.layer_map):
            adapter = block_adapter(module)
            if adapter is not None:
                extra += adapter.hooks(module)
                self._handles.append(module.register_forward_pre_hook(
                    self._block_pre_hook))
                self._handles.append(module.register_forward_hook(
                    self._make_block_hook(name, adapter)))
            else:
                self._handles.append(module.register_forward_hook(
                    self._make_leaf_hook(name)))
        # After the leaf hooks, so that those record the original output.
        for module, hook in extra:
            self._handles.append(module.register_forward_hook(hook))
        return self

    def __exit__(self, *exc) -> None:
        for h in self._handles:
            h.remove()
        self._handles = []
        self._stack = []

    def _make_leaf_hook(self, name: str):

        def hook(module, inputs, output):
            output = full_precision(output)
            self._stack[-1].append(
                LayerRecord(module, inputs[0], output, name))
            return output

        return hook

    def _block_pre_hook(self, module, inputs):
        self._stack.append(Tape())

    def _make_block_hook(self, name: str, adapter: BlockAdapter):

        def hook(module, inputs, output):
            records = self._stack.pop()
            self._stack[-1].extend(
                adapter.build(module, name, records, inputs, output))

        return hook
