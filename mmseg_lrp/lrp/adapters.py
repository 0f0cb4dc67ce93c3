"""Architecture knowledge in one place: residual blocks, chain containers
and encoders the LRP decoder can unroll.

Types are registered by qualified name (``'pkg.module.Class'``), so the
core needs neither mmpretrain nor torchvision to be installed; a type
matches only exactly (a subclass may change ``forward``).
"""
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

import torch.nn as nn

from .rules import default_rule_name, qualname, register_layer

# Returns an error message for an unsupported configuration, or None.
Check = Callable[[nn.Module], Optional[str]]


@dataclass
class BlockAdapter:
    """How to find the branches of one residual block type.

    Args:
        main_last: Returns the last layer of the residual branch (its output
            is the summand ``m``; blocks that add the shortcut to it in
            place get a clone, so the tape keeps the original).
        shortcut: Returns the shortcut module, or None for identity.
    """
    main_last: Callable[[nn.Module], nn.Module]
    shortcut: Callable[[nn.Module], Optional[nn.Module]]


BLOCKS: Dict[str, BlockAdapter] = {}
CONTAINERS: Dict[str, Optional[Check]] = {}
ENCODERS: Dict[str, Optional[Check]] = {}


def register_block(name: str, main_last: Callable, shortcut: Callable,
                   rule: str = 'residual') -> None:
    """Register a residual block type (decoded by ``rule``)."""
    BLOCKS[name] = BlockAdapter(main_last, shortcut)
    register_layer(name, rule)


def register_container(name: str, check: Optional[Check] = None) -> None:
    """Register a container whose forward calls its children in order;
    ``check`` refuses configurations where it does not."""
    CONTAINERS[name] = check


def register_encoder(name: str, check: Optional[Check] = None) -> None:
    """Register an encoder (backbone) type whose forward is a chain of its
    registered children; ``check`` refuses unsupported settings."""
    ENCODERS[name] = check


def block_adapter(module: nn.Module) -> Optional[BlockAdapter]:
    """The adapter of a residual block, or None."""
    return BLOCKS.get(qualname(type(module)))


# -- what is supported today -------------------------------------------------
for _pkg, _main in (('mmpretrain.models.backbones.resnet', 'norm'),
                    ('torchvision.models.resnet', 'bn')):
    register_block(f'{_pkg}.Bottleneck',
                   lambda b, m=_main: getattr(b, f'{m}3'),
                   lambda b: b.downsample)
    register_block(f'{_pkg}.BasicBlock',
                   lambda b, m=_main: getattr(b, f'{m}2'),
                   lambda b: b.downsample)


def _conv_module_order(m: nn.Module) -> Optional[str]:
    if tuple(m.order) != ('conv', 'norm', 'act'):
        return (f'ConvModule order {m.order} is not supported (only '
                "('conv', 'norm', 'act'))")
    return None


def _vgg_without_classifier(m: nn.Module) -> Optional[str]:
    if getattr(m, 'num_classes', -1) > 0:
        return ('VGG(num_classes>0) has its own classifier; set '
                'num_classes=-1 (the LRP head owns the classifier)')
    return None


for _name in ('torch.nn.modules.container.Sequential',
              'torch.nn.modules.container.ModuleList',
              'mmpretrain.models.backbones.resnet.ResLayer'):
    register_container(_name)
register_container('mmcv.cnn.bricks.conv_module.ConvModule',
                   _conv_module_order)
register_encoder('mmpretrain.models.backbones.vgg.VGG',
                 _vgg_without_classifier)
for _name in ('resnet.ResNet', 'resnet.ResNetV1c', 'resnet.ResNetV1d',
              'resnet_cifar.ResNet_CIFAR'):
    register_encoder(f'mmpretrain.models.backbones.{_name}')
register_encoder('torch.nn.modules.container.Sequential')


# -- checks ------------------------------------------------------------------
def unsupported_layers(root: nn.Module) -> List[Tuple[str, str]]:
    """``(qualified name, type name)`` of every leaf module of ``root``
    without a registered rule."""
    return [(name, type(m).__name__) for name, m in root.named_modules()
            if not list(m.children()) and default_rule_name(m) is None]


def recorded_layers(root: nn.Module) -> List[Tuple[str, nn.Module]]:
    """``(name, module)`` of every layer of ``root`` that
    :class:`~.tape.TapeRecorder` records (residual blocks and leaf layers
    with a rule), by the names that rule patterns match."""
    return [(name, m) for name, m in root.named_modules()
            if block_adapter(m) is not None or (
                not list(m.children()) and default_rule_name(m) is not None)]


def inplace_activations(root: nn.Module) -> List[str]:
    """Names of leaf layers of ``root`` that work in place.

    (Containers such as mmcv's ``ConvModule`` carry an ``inplace`` flag
    that is only a default for their activation; the leaves decide.)
    """
    return [
        name for name, m in root.named_modules()
        if not list(m.children()) and getattr(m, 'inplace', False) is True
    ]


def check_encoder(encoder: nn.Module, inplace_act: str = 'error') -> None:
    """Raise a clear error if ``encoder`` cannot be unrolled exactly.

    Args:
        encoder: The built backbone.
        inplace_act: What to do with in-place activations, which overwrite
            the activations the decoder needs: ``'error'`` (default) or
            ``'disable'`` (switch them to out-of-place; same forward values,
            a little more memory; needed for mmpretrain's ResNet, whose
            ReLUs are in place by construction).

    Raises:
        ValueError: Naming the encoder, layer or option at fault.
    """
    kind = qualname(type(encoder))
    if kind not in ENCODERS:
        raise ValueError(
            f'unsupported backbone {kind}: the LRP decoder can unroll '
            f'{", ".join(sorted(ENCODERS))} (register others with '
            'mmseg_lrp.lrp.adapters.register_encoder)')
    problem = ENCODERS[kind] and ENCODERS[kind](encoder)
    if problem:
        raise ValueError(f'backbone {type(encoder).__name__}: {problem}')
    for name, m in encoder.named_modules():
        if getattr(m, 'with_cp', False):
            raise ValueError(
                f'backbone.{name or "<root>"} has with_cp=True: '
                'checkpointed blocks record activations without autograd '
                'history; set with_cp=False (the LRP head has its own '
                'memory-bounded mode, use_checkpoint=True)')
    bad = unsupported_layers(encoder)
    if bad:
        listed = ', '.join(f'backbone.{n} ({t})' for n, t in bad[:5])
        raise ValueError(f'no LRP rule for layer type(s): {listed}')
    _check_containers(encoder, '')
    inplace = inplace_activations(encoder)
    if inplace_act not in ('error', 'disable'):
        raise ValueError(f"inplace_act must be 'error' or 'disable', got "
                         f'{inplace_act!r}')
    if inplace and inplace_act == 'disable':
        for name in inplace:
            encoder.get_submodule(name).inplace = False
    elif inplace:
        raise ValueError(
            'in-place activations overwrite the activations the LRP '
            f'decoder needs: backbone.{", backbone.".join(inplace[:5])}. '
            "Set act_cfg=dict(type='ReLU', inplace=False) in the backbone, "
            "or inplace_act='disable' in the segmentor")


def _check_containers(module: nn.Module, prefix: str) -> None:
    """Every container below ``module`` is a registered chain or block
    (inside a block, its rule knows the structure)."""
    for name, child in module.named_children():
        full = prefix + name
        if block_adapter(child) is not None or not list(child.children()):
            continue
        kind = qualname(type(child))
        if kind not in CONTAINERS:
            raise ValueError(
                f'backbone.{full} ({type(child).__name__}) is a container '
                'without an LRP rule (its forward is not a known chain)')
        problem = CONTAINERS[kind] and CONTAINERS[kind](child)
        if problem:
            raise ValueError(f'backbone.{full}: {problem}')
        _check_containers(child, full + '.')
