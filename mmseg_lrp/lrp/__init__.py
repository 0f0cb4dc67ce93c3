"""Unrolled LRP in plain PyTorch: tape recorder, rules, propagator."""
from .propagate import CONV_RULES, LRPPropagator
from .tape import (BLOCK_ADAPTERS, LEAF_KINDS, LayerRecord, ResidualRecord,
                   TapeRecorder, inplace_activations, unsupported_layers)

__all__ = [
    'CONV_RULES', 'LRPPropagator', 'BLOCK_ADAPTERS', 'LEAF_KINDS',
    'LayerRecord', 'ResidualRecord', 'TapeRecorder', 'inplace_activations',
    'unsupported_layers'
]
