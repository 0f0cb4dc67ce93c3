"""Recording what each layer of an encoder saw in one forward call.

:class:`TapeRecorder` registers forward hooks on the layers that have a
registered LRP rule (:data:`rules.LAYER_RULES`) and on registered residual
blocks (:mod:`.adapters`) for the duration of one ``with`` block (removed in
``finally``, so no state outlives the call and nothing is stored on the
modules), and writes a :class:`~.records.Tape`.

The tape holds the live tensors of the forward pass (with their autograd
history), so relevance computed from it is differentiable w.r.t. the
encoder's weights and inputs. Layer references are taken from the modules at
call time, never cached across calls (mmengine may swap BN modules for
SyncBN after the model is built).
"""
from typing import List

import torch.nn as nn

from .adapters import BlockAdapter, block_adapter, recorded_layers
from .functional import full_precision
from .records import LayerRecord, ResidualRecord, Tape


def _contains(parent, module: nn.Module) -> bool:
    return parent is not None and any(m is module for m in parent.modules())


class TapeRecorder:
    """Record a tape of one forward call through ``root``.

    Use as::

        with TapeRecorder(backbone) as rec:
            feats = backbone(x)
        tape = rec.tape

    Args:
        root: The module whose forward is recorded (e.g. the backbone).
    """

    def __init__(self, root: nn.Module) -> None:
        self.root = root
        self.tape = Tape()
        self._stack: List[Tape] = []
        self._handles: list = []

    def __enter__(self) -> 'TapeRecorder':
        self.tape = Tape()
        self._stack = [self.tape]
        blocks = []
        # residual blocks and leaf layers with a rule (what rule patterns
        # are checked against, adapters.recorded_layers)
        for name, module in recorded_layers(self.root):
            adapter = block_adapter(module)
            if adapter is not None:
                blocks.append((module, adapter))
                self._handles.append(module.register_forward_pre_hook(
                    self._block_pre_hook))
                self._handles.append(module.register_forward_hook(
                    self._make_block_hook(name, adapter)))
            else:
                self._handles.append(module.register_forward_hook(
                    self._make_leaf_hook(name)))
        # After the leaf hooks, so that those record the original output.
        for module, adapter in blocks:
            self._handles.append(adapter.main_last(
                module).register_forward_hook(self._clone_hook))
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

    def _clone_hook(self, module, inputs, output):
        # The block adds the shortcut to this output in place: keep the
        # original for the tape, let the block mutate a copy.
        return output.clone()

    def _block_pre_hook(self, module, inputs):
        self._stack.append(Tape())

    def _make_block_hook(self, name: str, adapter: BlockAdapter):

        def hook(module, inputs, output):
            records = self._stack.pop()
            last = adapter.main_last(module)
            shortcut_mod = adapter.shortcut(module)
            idx = max(i for i, r in enumerate(records) if r.module is last)
            rest = records[idx + 1:]
            main = Tape(records[:idx + 1])
            shortcut = Tape(r for r in rest
                            if _contains(shortcut_mod, r.module))
            post = Tape(r for r in rest
                        if not _contains(shortcut_mod, r.module))
            shortcut_out = shortcut.output() if shortcut else inputs[0]
            self._stack[-1].append(
                ResidualRecord(module, main, shortcut, post, main.output(),
                               shortcut_out, name))

        return hook
