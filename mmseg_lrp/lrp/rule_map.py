"""Which rule decodes which layer: a layer map (a value) and the config's
name rules in front of it (zennit's ``LayerMapComposite`` /
``NameLayerMapComposite``).

A *layer map* is a tuple of ``(layer type, rule name)`` entries, first
match wins (exact types before base classes). :data:`TORCH_LAYERS` covers
``torch.nn``; each architecture family (:mod:`.archs`) brings its own
entries, and :func:`~.archs.layer_map` joins them. Nothing here is global
state: a :class:`RuleMap` is built from a map it is given.
"""
import difflib
import fnmatch
from typing import Dict, List, Optional, Sequence, Tuple, Type, Union

import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

from .records import CLASSIFIER, LayerRecord
from .rules import RULES, LayerType, Rule, build_rule, is_a, qualname

LayerMap = Tuple[Tuple[LayerType, str], ...]

TORCH_LAYERS: LayerMap = (
    (nn.Conv1d, 'epsilon'), (nn.Conv2d, 'epsilon'), (nn.Conv3d, 'epsilon'),
    (nn.Linear, 'epsilon'),
    (_BatchNorm, 'batch_norm'),
    (nn.LayerNorm, 'layer_norm'),
    (nn.MaxPool2d, 'winner_takes_all'),
    (nn.AvgPool2d, 'avg_pool'), (nn.AdaptiveAvgPool2d, 'avg_pool'),
    (nn.ReLU, 'pass'), (nn.Dropout, 'pass'), (nn.Identity, 'pass'),
    (nn.Flatten, 'pass'),
    (nn.GELU, 'gate'), (nn.SiLU, 'gate'),
)


def default_rule_name(module: nn.Module,
                      layer_map: LayerMap) -> Optional[str]:
    """The rule ``layer_map`` gives ``module``, or None (no rule).

    Exact types and names are looked up first, then base classes in the
    map's order.
    """
    exact = (type(module), qualname(type(module)))
    for t, rule in layer_map:
        if t in exact:
            return rule
    for t, rule in layer_map:
        if is_a(module, t):
            return rule
    return None


class RuleMap:
    """Which rule decodes which record: the first name rule whose pattern
    matches the record's name and whose rule can decode the layer, else the
    layer map's rule for the layer's type (or a recorded operation's own).

    Args:
        rules: ``dict(layers=<fnmatch pattern>, type=<rule>, **params)`` in
            priority order. Patterns match layer names inside the encoder
            (``'layer4.*'``, ``'features.1*'``); the classifier's layers
            (``classifier.pool``, ``classifier.fc``) match only patterns
            that start with ``classifier.``.
        where: Config key for messages.
        layer_map: The defaults (default: every registered family's map,
            :func:`~.archs.layer_map`, taken now).
    """

    def __init__(self, rules: Sequence[dict] = (),
                 where: str = 'rules',
                 layer_map: Optional[LayerMap] = None) -> None:
        if layer_map is None:
            from .archs import layer_map as registered
            layer_map = registered()
        self.where = where
        self.layer_map = tuple(layer_map)
        self.by_name: List[Tuple[str, Rule]] = []
        for i, cfg in enumerate(rules):
            cfg = dict(cfg)
            pattern = cfg.pop('layers', None)
            if not isinstance(pattern, str):
                raise ValueError(f'{where}[{i}] = {cfg!r}: needs '
                                 'layers=<pattern> and type=<rule>')
            self.by_name.append((pattern, build_rule(cfg, f'{where}[{i}]')))
        self._defaults: Dict[str, Rule] = {}

    def can_decode(self, rule: Union[Rule, Type[Rule]], module: nn.Module,
                   op: Union[None, bool, str] = None) -> bool:
        """Whether ``rule`` (an instance or class) decodes ``module``: by
        the rule's own types or by an entry of the layer map. For an
        operation recorded with its linear part (``op``: True, or its
        default rule's name), rules with ``ops = True``; an operation that
        only moves values (default ``'move'``) takes ``move`` alone."""
        if op:
            return rule.ops and (op != 'move' or rule.name == 'move')
        return any(is_a(module, t) for t in rule.layer_types) or any(
            name == rule.name and is_a(module, t)
            for t, name in self.layer_map)

    def default(self, module: nn.Module) -> Optional[str]:
        return default_rule_name(module, self.layer_map)

    @staticmethod
    def _matches(pattern: str, name: str) -> bool:
        return (name.startswith(CLASSIFIER) == pattern.startswith(CLASSIFIER)
                and fnmatch.fnmatchcase(name, pattern))

    def check(self, layers: Sequence[Tuple]) -> None:
        """Refuse a name rule that would never apply.

        A rule whose pattern matches no recorded layer, or matches only
        layers its rule cannot decode, would be skipped silently (those
        layers fall back to the layer map's rule). The catch-all patterns
        ``'*'`` and ``'classifier.*'`` mean "every layer the rule decodes"
        and may match none.

        Args:
            layers: ``(name, module)`` or ``(name, module, op)`` of every
                layer and operation the tape records (encoder and
                classifier, see :func:`~.archs.rule_targets`); ``op``: None
                for a layer, else the operation's default rule (or True).

        Raises:
            ValueError: Naming the rule's config key, its pattern and the
                nearest layer names, or the matched layers, their types and
                the rules that can decode them.
        """
        layers = [(t[0], t[1], t[2] if len(t) > 2 else None)
                  for t in layers]
        names = [n for n, _, _ in layers]
        for i, (pattern, rule) in enumerate(self.by_name):
            if pattern in ('*', CLASSIFIER + '*'):
                continue  # "wherever it applies": one config for models
                # with and without e.g. batch norm
            key = f'{self.where}[{i}]'
            hits = [h for h in layers if self._matches(pattern, h[0])]
            if not hits:
                near = difflib.get_close_matches(pattern, names, 5, 0.3)
                tops = sorted({n.split('.')[0] if not n.startswith(
                    CLASSIFIER) else n for n in names})
                raise ValueError(
                    f'{key}: layers={pattern!r} matches no layer of the '
                    f'model (nearest names: {", ".join(near) or "none"}; '
                    f'top-level names: {", ".join(tops)}). Patterns are '
                    "fnmatch patterns over the encoder's layer names "
                    "('layer4.*') and the classifier's, which match only "
                    f"patterns that start with {CLASSIFIER!r}")
            if not any(self.can_decode(rule, m, op) for _, m, op in hits):
                shown = ', '.join(f'{n} ({type(m).__name__})'
                                  for n, m, _ in hits[:5])
                able = sorted({
                    name for name, cls in RULES.items()
                    for _, m, op in hits if self.can_decode(cls, m, op)
                })
                raise ValueError(
                    f'{key}: rule {rule.name!r} cannot decode any layer '
                    f'that layers={pattern!r} matches: {shown}; rules that '
                    'can: '
                    f'{", ".join(able) or "none (the layer type has no rule)"}'
                )

    def rule_for(self, rec: LayerRecord) -> Rule:
        """The rule that decodes ``rec``.

        Raises:
            NotImplementedError: The layer type has no rule.
        """
        op = None if rec.fn is None else (rec.rule or True)
        for pattern, rule in self.by_name:
            if self._matches(pattern, rec.name) and self.can_decode(
                    rule, rec.module, op):
                return rule
        name = rec.rule or self.default(rec.module)
        if name is None:
            raise NotImplementedError(
                f'no LRP rule for {rec.name} ({type(rec.module).__name__})')
        if name not in self._defaults:
            self._defaults[name] = RULES[name]()
        return self._defaults[name]
