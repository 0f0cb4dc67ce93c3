"""Build-time checks that an encoder can be unrolled by LRP."""
from typing import Tuple

import torch.nn as nn

from mmseg_lrp.lrp.tape import (block_adapter, inplace_activations,
                                unsupported_layers)

# Encoders whose forward is a chain of their children in registration order
# (plus residual blocks with a block-level rule).
SUPPORTED_BACKBONES: Tuple[str, ...] = (
    'VGG', 'ResNet', 'ResNetV1c', 'ResNetV1d', 'ResNet_CIFAR')
# Containers whose forward calls their children in order.
CHAIN_CONTAINERS: Tuple[str, ...] = ('Sequential', 'ResLayer', 'ModuleList')


def check_lrp_backbone(backbone: nn.Module, inplace_act: str = 'error') -> None:
    """Raise a clear error if ``backbone`` cannot be unrolled exactly.

    Args:
        backbone: The built encoder.
        inplace_act: What to do with in-place activations, which overwrite
            the activations the decoder needs: ``'error'`` (default) or
            ``'disable'`` (switch them to out-of-place; same forward values,
            a little more memory; needed for mmpretrain's ResNet, whose
            ReLUs are in place by construction).

    Raises:
        ValueError: Naming the backbone, layer or option at fault.
    """
    name = type(backbone).__name__
    if name not in SUPPORTED_BACKBONES or not type(
            backbone).__module__.startswith('mmpretrain.'):
        raise ValueError(
            f'unsupported backbone {type(backbone).__module__}.{name}: the '
            'LRP decoder has rules for mmpretrain.VGG and mmpretrain.ResNet '
            '(and its variants) '
            f'({", ".join(SUPPORTED_BACKBONES)})')
    if name == 'VGG' and getattr(backbone, 'num_classes', -1) > 0:
        raise ValueError(
            'backbone VGG(num_classes>0) has its own classifier; set '
            'num_classes=-1 (the LRP head owns the classifier)')
    for mod_name, m in backbone.named_modules():
        if getattr(m, 'with_cp', False):
            raise ValueError(
                f'backbone.{mod_name or "<root>"} has with_cp=True: '
                'checkpointed blocks record activations without autograd '
                'history; set with_cp=False (the LRP head has its own '
                'memory-bounded mode, use_checkpoint=True)')
    bad = unsupported_layers(backbone)
    if bad:
        listed = ', '.join(f'backbone.{n} ({t})' for n, t in bad[:5])
        raise ValueError(f'no LRP rule for layer type(s): {listed}')
    for mod_name, m in backbone.named_modules():
        if m is backbone or block_adapter(m) is not None or not list(
                m.children()):
            continue
        if any(block_adapter(p) is not None
               for p in _parents(backbone, mod_name)):
            continue  # inside a residual block: handled by its rule
        cls = type(m).__name__
        if cls == 'ConvModule':
            if tuple(m.order) != ('conv', 'norm', 'act'):
                raise ValueError(
                    f'backbone.{mod_name}: ConvModule order {m.order} is '
                    "not supported (only ('conv', 'norm', 'act'))")
            continue
        if cls not in CHAIN_CONTAINERS:
            raise ValueError(
                f'backbone.{mod_name} ({cls}) is a container without an LRP '
                'rule (its forward is not a known chain)')
    inplace = inplace_activations(backbone)
    if inplace:
        if inplace_act == 'disable':
            for name in inplace:
                backbone.get_submodule(name).inplace = False
        elif inplace_act == 'error':
            raise ValueError(
                'in-place activations overwrite the activations the LRP '
                f'decoder needs: backbone.{", backbone.".join(inplace[:5])}. '
                "Set act_cfg=dict(type='ReLU', inplace=False) in the backbone, "
                "or inplace_act='disable' in the segmentor")
        else:
            raise ValueError(f"inplace_act must be 'error' or 'disable', got "
                             f'{inplace_act!r}')


def _parents(root: nn.Module, name: str):
    """The modules on the path from ``root`` to ``name`` (exclusive)."""
    parts = name.split('.')
    m = root
    for p in parts[:-1]:
        m = getattr(m, p)
        yield m
