"""Architecture families the LRP decoder unrolls; each is one file that
registers one :class:`~.base.Family` (``torch_nn``, ``cnn``, ``vit``)."""
from . import cnn, torch_nn, vit  # noqa: F401  (register the families)
from .base import (FAMILIES, BlockAdapter, Check, Family, ResidualBlock,
                   block_adapter, check_encoder, inplace_activations,
                   layer_map, op_record, recorded_layers, register_family,
                   rule_targets, unregister_family, unsupported_layers)

__all__ = [
    'FAMILIES', 'BlockAdapter', 'Check', 'Family', 'ResidualBlock',
    'block_adapter', 'check_encoder', 'inplace_activations', 'layer_map',
    'op_record', 'recorded_layers', 'register_family', 'rule_targets',
    'unregister_family', 'unsupported_layers'
]
