"""``torch.nn`` itself: chain containers, ``nn.Sequential`` as an encoder,
and the layer map of torch's layer types."""
from ..rule_map import TORCH_LAYERS
from .base import Family, register_family

CHAIN = ('torch.nn.modules.container.Sequential',
         'torch.nn.modules.container.ModuleList')

TORCH = register_family(
    Family(
        name='torch',
        encoders={CHAIN[0]: None},
        containers={name: None for name in CHAIN},
        layers=TORCH_LAYERS))
