"""Initialise mmpretrain's VGG / ResNet (and the LRP head's fc stack) from
torchvision's ImageNet checkpoints, as the original code started."""
import re
from typing import Dict, List

import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model.weight_init import update_init_info
from mmengine.registry import WEIGHT_INITIALIZERS
from torch import Tensor

PARTS = ('backbone', 'classifier')


def _indexed(state: Dict[str, Tensor], prefix: str, dims: int) -> List[int]:
    """Indices ``i`` of ``{prefix}{i}.weight`` entries with ``dims``
    dimensions, in order."""
    found = set()
    for key, value in state.items():
        m = re.fullmatch(re.escape(prefix) + r'(\d+)\.weight', key)
        if m and value.dim() == dims:
            found.add(int(m.group(1)))
    return sorted(found)


def _in_order(state: Dict[str, Tensor], prefix: str, module: nn.Module,
              kind: type, dims: int, where: str) -> Dict[str, Tensor]:
    """Map the ``kind`` layers of a torchvision ``Sequential`` (``prefix``)
    to those of ``module`` in forward order, every tensor of each."""
    src = _indexed(state, prefix, dims)
    dst = [n for n, m in module.named_modules() if isinstance(m, kind)]
    if len(src) < len(dst) or (kind is not nn.Linear and len(src) != len(dst)):
        raise ValueError(
            f'{where}: {len(src)} {kind.__name__} layers under {prefix!r}, '
            f'the model has {len(dst)} ({", ".join(dst[:3])}, ...)')
    out = {}
    for i, name in zip(src, dst):
        for key, value in state.items():
            if key.startswith(f'{prefix}{i}.'):
                out[f'{name}.{key[len(f"{prefix}{i}."):]}'] = value
    return out


def torchvision_state_dict(state: Dict[str, Tensor], module: nn.Module,
                           part: str = 'backbone',
                           where: str = 'checkpoint') -> Dict[str, Tensor]:
    """``state`` (a torchvision VGG or ResNet state dict) with ``module``'s
    keys.

    - ``part='backbone'``: ResNet keys are mmpretrain's already (``fc.*``
      dropped); VGG's ``features.{i}`` convolutions (and batch norms of
      VGG-BN) map in order to the model's (``features.{j}.conv`` /
      ``.bn``: mmpretrain numbers only convolutions and pools).
    - ``part='classifier'``: torchvision VGG's ``classifier.{0,3}`` (fc6,
      fc7) map in order to ``module``'s linear layers (the LRP head's
      ``mlp``); its 1000-class fc8 is left out when ``module`` has fewer.

    Args:
        state: The torchvision state dict.
        module: What it initialises.
        part: ``'backbone'`` or ``'classifier'``.
        where: The checkpoint's name, for messages.

    Returns:
        dict: ``module``'s state-dict keys to tensors.
    """
    if part not in PARTS:
        raise ValueError(f'part must be one of {PARTS}, got {part!r}')
    if part == 'classifier':
        return _in_order(state, 'classifier.', module, nn.Linear, 2, where)
    if 'layer1.0.conv1.weight' in state:  # ResNet: the same names
        return {k: v for k, v in state.items() if not k.startswith('fc.')}
    if 'features.0.weight' in state:  # VGG (-BN)
        out = _in_order(state, 'features.', module, nn.Conv2d, 4, where)
        if any(isinstance(m, nn.modules.batchnorm._BatchNorm)
               for m in module.modules()):
            out.update(_in_order(state, 'features.', module,
                                 nn.modules.batchnorm._BatchNorm, 1, where))
        return out
    raise ValueError(f'{where}: not a torchvision VGG or ResNet state dict '
                     f'(first keys: {", ".join(list(state)[:3])})')


@WEIGHT_INITIALIZERS.register_module(name='TorchvisionPretrained')
class TorchvisionPretrainedInit:
    """``init_cfg`` that loads a torchvision checkpoint into mmpretrain's
    VGG / ResNet or the LRP head's fc stack (see
    :func:`torchvision_state_dict`); every tensor of the backbone must be
    found, with its shape.

    Args:
        checkpoint: ``torchvision://vgg16``, ``torchvision://resnet50`` (the
            original code's ImageNet weights) or a local file.
        part: ``'backbone'`` or ``'classifier'``.
        map_location: Where to load the tensors.
    """

    def __init__(self, checkpoint: str, part: str = 'backbone',
                 map_location: str = 'cpu') -> None:
        if part not in PARTS:
            raise ValueError(f'part must be one of {PARTS}, got {part!r}')
        self.checkpoint, self.part = checkpoint, part
        self.map_location = map_location

    def __call__(self, module: nn.Module) -> None:
        from mmengine.runner.checkpoint import (_load_checkpoint,
                                                load_state_dict)
        if getattr(module, 'zero_init_residual', False):
            # mmpretrain's ResNet skips this only after type='Pretrained'
            raise ValueError(
                f'TorchvisionPretrained on {type(module).__name__}: set '
                'zero_init_residual=False in the backbone config, or its '
                'init_weights zeroes the last BN of every block after the '
                'checkpoint is loaded')
        state = _load_checkpoint(self.checkpoint, self.map_location)
        state = state.get('state_dict', state)
        mapped = torchvision_state_dict(state, module, self.part,
                                        self.checkpoint)
        own = module.state_dict()
        missing = [k for k in own if k not in mapped] \
            if self.part == 'backbone' else []
        wrong = [f'{k}: {tuple(v.shape)} in the checkpoint, '
                 f'{tuple(own[k].shape)} in the model'
                 for k, v in mapped.items() if k in own
                 and v.shape != own[k].shape]
        unknown = [k for k in mapped if k not in own]
        if missing or wrong or unknown:
            raise ValueError(
                f'{self.checkpoint} does not fit {type(module).__name__}: '
                + '; '.join(
                    f'{what} {", ".join(keys[:4])}'
                    + (f' (+{len(keys) - 4})' if len(keys) > 4 else '')
                    for what, keys in (('missing', missing),
                                       ('shape', wrong),
                                       ('unknown', unknown)) if keys))
        print_log(f'load {self.part} from torchvision checkpoint '
                  f'{self.checkpoint}', logger='current')
        load_state_dict(module, mapped, strict=False, logger='current')
        if hasattr(module, '_params_init_info'):
            update_init_info(
                module, init_info=f'{type(self).__name__}: load {self.part} '
                f'from {self.checkpoint}')
