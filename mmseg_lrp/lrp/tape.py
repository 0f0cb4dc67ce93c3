"""Recording what each layer of an encoder saw in one forward call.

:class:`TapeRecorder` registers forward hooks on the supported layers of a
module for the duration of one ``with`` block (removed in ``finally``, so no
state outlives the call and nothing is stored on the modules) and writes a
*tape*: the ordered list of :class:`LayerRecord` (module, input, output) and,
for residual blocks, :class:`ResidualRecord` holding the records of the
residual branch, of the shortcut branch, and the two summands.

The tape holds the live tensors of the forward pass (with their autograd
history), so relevance computed from it is differentiable w.r.t. the encoder's
weights and inputs. Layer references are taken from the modules at call time,
never cached across calls (mmengine may swap BN modules for SyncBN after the
model is built).
"""
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple, Type, Union

import torch.nn as nn
from torch import Tensor
from torch.nn.modules.batchnorm import _BatchNorm

# Leaf layer types the LRP rules know, mapped to the rule's name.
LEAF_KINDS: Dict[Type[nn.Module], str] = {
    nn.Conv2d: 'conv',
    nn.Linear: 'linear',
    _BatchNorm: 'bn',
    nn.ReLU: 'pass',
    nn.Dropout: 'pass',
    nn.Identity: 'pass',
    nn.MaxPool2d: 'maxpool',
    nn.AvgPool2d: 'avgpool',
    nn.AdaptiveAvgPool2d: 'avgpool',
}


def leaf_kind(module: nn.Module) -> Optional[str]:
    """The rule name for a leaf layer, or None if it has no rule."""
    for cls, kind in LEAF_KINDS.items():
        if isinstance(module, cls):
            return kind
    return None


@dataclass
class LayerRecord:
    """What one leaf layer saw in the forward pass.

    Args:
        module: The layer (its parameters are the tied decoder weights).
        kind: Rule name (see ``LEAF_KINDS``).
        input: The layer's input tensor.
        output: The layer's output tensor (for conv/linear: the
            pre-activation ``z`` with bias).
        name: Qualified module name, for error messages and rule choice.
    """
    module: nn.Module
    kind: str
    input: Tensor
    output: Tensor
    name: str = ''


@dataclass
class ResidualRecord:
    """A residual block ``out = post(main(x) + shortcut(x))``.

    Args:
        module: The block.
        main: Records of the residual branch, in forward order.
        shortcut: Records of the shortcut branch (empty for identity).
        post: Records after the addition (e.g. the final ReLU).
        main_out: Output of the residual branch ``m``.
        shortcut_out: Output of the shortcut branch ``s`` (``x`` if identity).
        name: Qualified module name.
    """
    module: nn.Module
    main: List['Record']
    shortcut: List['Record']
    post: List['Record']
    main_out: Tensor
    shortcut_out: Tensor
    name: str = ''
    kind: str = field(default='residual', init=False)


Record = Union[LayerRecord, ResidualRecord]


@dataclass
class BlockAdapter:
    """How to find the branches of one residual block type.

    Args:
        main_last: Returns the last layer of the residual branch (its output
            is the summand ``m``; it is modified in place by ``out +=
            identity`` in mmpretrain's blocks, so the recorder keeps a
            clone of it for the block to mutate).
        shortcut: Returns the shortcut module, or None for identity.
    """
    main_last: Callable[[nn.Module], nn.Module]
    shortcut: Callable[[nn.Module], Optional[nn.Module]]


def _default_block_adapters() -> Dict[Type[nn.Module], BlockAdapter]:
    adapters = {}
    try:
        from mmpretrain.models.backbones.resnet import BasicBlock, Bottleneck
        adapters[Bottleneck] = BlockAdapter(lambda b: b.norm3,
                                            lambda b: b.downsample)
        adapters[BasicBlock] = BlockAdapter(lambda b: b.norm2,
                                            lambda b: b.downsample)
    except ImportError:  # pragma: no cover - mmpretrain is a dependency
        pass
    return adapters


BLOCK_ADAPTERS: Dict[Type[nn.Module], BlockAdapter] = \
    _default_block_adapters()


def block_adapter(module: nn.Module) -> Optional[BlockAdapter]:
    """The adapter of a residual block type, or None."""
    for cls, adapter in BLOCK_ADAPTERS.items():
        if type(module) is cls:
            return adapter
    return None


def _contains(parent: Optional[nn.Module], module: nn.Module) -> bool:
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
        self.tape: List[Record] = []
        self._stack: List[List[Record]] = []
        self._handles: list = []

    def __enter__(self) -> 'TapeRecorder':
        self.tape = []
        self._stack = [self.tape]
        for name, module in self.root.named_modules():
            adapter = block_adapter(module)
            if adapter is not None:
                self._handles.append(module.register_forward_pre_hook(
                    self._block_pre_hook))
                self._handles.append(module.register_forward_hook(
                    self._make_block_hook(name, adapter)))
            elif not list(module.children()):
                kind = leaf_kind(module)
                if kind is not None:
                    self._handles.append(module.register_forward_hook(
                        self._make_leaf_hook(name, kind)))
        # After the leaf hooks, so that those record the original output.
        for module in self.root.modules():
            adapter = block_adapter(module)
            if adapter is not None:
                self._handles.append(adapter.main_last(
                    module).register_forward_hook(self._clone_hook))
        return self

    def __exit__(self, *exc) -> None:
        for h in self._handles:
            h.remove()
        self._handles = []
        self._stack = []

    def _make_leaf_hook(self, name: str, kind: str):

        def hook(module, inputs, output):
            self._stack[-1].append(
                LayerRecord(module, kind, inputs[0], output, name))

        return hook

    def _clone_hook(self, module, inputs, output):
        # The block adds the shortcut to this output in place: keep the
        # original for the tape, let the block mutate a copy.
        return output.clone()

    def _block_pre_hook(self, module, inputs):
        self._stack.append([])

    def _make_block_hook(self, name: str, adapter: BlockAdapter):

        def hook(module, inputs, output):
            records = self._stack.pop()
            last = adapter.main_last(module)
            shortcut_mod = adapter.shortcut(module)
            idx = max(i for i, r in enumerate(records) if r.module is last)
            main = records[:idx + 1]
            rest = records[idx + 1:]
            shortcut = [r for r in rest
                        if _contains(shortcut_mod, r.module)]
            post = [r for r in rest
                    if not _contains(shortcut_mod, r.module)]
            main_out = main[-1].output
            shortcut_out = shortcut[-1].output if shortcut else inputs[0]
            self._stack[-1].append(
                ResidualRecord(module, main, shortcut, post, main_out,
                               shortcut_out, name))

        return hook


def unsupported_layers(root: nn.Module) -> List[Tuple[str, str]]:
    """Leaf layers of ``root`` that have no LRP rule.

    Args:
        root: The encoder.

    Returns:
        ``(qualified name, type name)`` of every leaf module that is neither
        a supported layer nor inside a supported residual block.
    """
    bad = []
    for name, module in root.named_modules():
        if list(module.children()):
            continue
        if leaf_kind(module) is None:
            bad.append((name, type(module).__name__))
    return bad


def inplace_activations(root: nn.Module) -> List[str]:
    """Names of leaf layers of ``root`` that work in place.

    (Containers such as mmcv's ``ConvModule`` carry an ``inplace`` flag
    that is only a default for their activation; the leaves decide.)
    """
    return [
        name for name, m in root.named_modules()
        if not list(m.children()) and getattr(m, 'inplace', False) is True
    ]
