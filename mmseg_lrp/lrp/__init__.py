"""Unrolled LRP in plain PyTorch: tape recorder, rules, propagator.

Needs only torch: importable without mmcv/mmseg (the OpenMMLab parts of
the package register only when mmseg is installed).
"""
from .adapters import (check_encoder, register_block, register_container,
                       recorded_layers, register_encoder,
                       unsupported_layers)
from .propagate import LRPPropagator, select_rows
from .records import CLASSIFIER, LayerRecord, ResidualRecord, Tape
from . import functional, rules
from .functional import full_precision
from .rules import (RULES, Rule, RuleContext, RuleMap, build_rule,
                    register_layer, register_rule)
from .tape import TapeRecorder

__all__ = [
    'functional', 'rules', 'full_precision',
    'check_encoder', 'register_block', 'register_container',
    'recorded_layers', 'register_encoder', 'unsupported_layers',
    'LRPPropagator', 'select_rows',
    'CLASSIFIER', 'LayerRecord', 'ResidualRecord', 'Tape', 'RULES', 'Rule',
    'RuleContext', 'RuleMap', 'build_rule', 'register_layer',
    'register_rule', 'TapeRecorder'
]
