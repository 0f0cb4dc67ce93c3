"""Unrolled LRP in plain PyTorch: tape recorder, rules, propagator.

Needs only torch: importing it loads nothing of OpenMMLab (architecture
families name optional libraries' types by qualified name).
"""
from . import functional, rules
from .archs import (FAMILIES, BlockAdapter, Family, ResidualBlock,
                    block_adapter, check_encoder, layer_map, op_record,
                    recorded_layers, register_family, rule_targets,
                    unregister_family, unsupported_layers)
from .functional import full_precision
from .propagate import LRPPropagator, select_rows
from .records import CLASSIFIER, LayerRecord, ResidualRecord, Tape
from .rule_map import TORCH_LAYERS, LayerMap, RuleMap, default_rule_name
from .rules import (RULES, LinearRule, Rule, RuleContext, build_rule,
                    register_rule)
from .tape import TapeRecorder

__all__ = [
    'functional', 'rules', 'full_precision', 'FAMILIES', 'BlockAdapter',
    'Family', 'ResidualBlock', 'block_adapter', 'check_encoder', 'layer_map',
    'op_record', 'recorded_layers', 'register_family', 'rule_targets',
    'unregister_family', 'unsupported_layers', 'LRPPropagator',
    'select_rows', 'CLASSIFIER', 'LayerRecord', 'ResidualRecord', 'Tape',
    'TORCH_LAYERS', 'LayerMap', 'RuleMap', 'default_rule_name', 'RULES',
    'LinearRule', 'Rule', 'RuleContext', 'build_rule', 'register_rule',
    'TapeRecorder'
]
