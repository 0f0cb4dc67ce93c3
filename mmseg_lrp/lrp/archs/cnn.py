"""Convolutional encoders: mmpretrain's VGG and ResNets (and torchvision's
residual blocks, for the benchmark and GPU check)."""
from typing import Optional

import torch.nn as nn

from .base import Family, ResidualBlock, register_family

PRETRAIN = 'mmpretrain.models.backbones.'


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


def _blocks(pkg: str, norm: str) -> dict:
    # mmpretrain's blocks end the residual branch with drop_path (DropPath,
    # or Identity at rate 0) before the addition; torchvision's with the BN
    def last(name):
        def main_last(b):
            drop = getattr(b, 'drop_path', None)
            return getattr(b, name) if drop is None else drop

        return main_last

    return {
        f'{pkg}.Bottleneck': ResidualBlock(last(f'{norm}3'),
                                           lambda b: b.downsample),
        f'{pkg}.BasicBlock': ResidualBlock(last(f'{norm}2'),
                                           lambda b: b.downsample),
    }


CNN = register_family(
    Family(
        name='cnn',
        encoders={
            PRETRAIN + 'vgg.VGG': _vgg_without_classifier,
            **{PRETRAIN + name: None
               for name in ('resnet.ResNet', 'resnet.ResNetV1c',
                            'resnet.ResNetV1d', 'resnet_cifar.ResNet_CIFAR')}
        },
        blocks={
            **_blocks(PRETRAIN + 'resnet', 'norm'),
            **_blocks('torchvision.models.resnet', 'bn')
        },
        containers={
            PRETRAIN + 'resnet.ResLayer': None,
            'mmcv.cnn.bricks.conv_module.ConvModule': _conv_module_order,
        }))
