"""LRP rules as objects, and the map that says which applies where.

Every rule has one call shape, ``rule(record, R, ctx) -> R_in``: the record
of one layer (its module, input and output), the relevance ``R`` at its
output with the classes in front ``(K, n, ...)``, and a
:class:`RuleContext` (stabilizer, sample selection, decoder weights, and the
propagator for rules that walk sub-tapes). Rules are registered by name
(configs name them as dicts, ``dict(type='alpha_beta', alpha=2., beta=1.)``)
and the layer types they handle; :data:`LAYER_RULES` is the default rule of
each supported layer type, which is also what the tape recorder records.

Adding a rule is one class plus its ``@register_rule``; adding a layer type
is one :func:`register_layer` call (plus a class if no rule fits). See
``docs/model.md`` for a worked example.
"""
import difflib
import fnmatch
from dataclasses import dataclass
from typing import (Callable, Dict, List, Mapping, Optional, Sequence, Tuple,
                    Type, Union)

import torch.nn as nn
from torch import Tensor
from torch.nn.modules.batchnorm import _BatchNorm

from . import functional as F_
from .records import CLASSIFIER, LayerRecord, Record

# A layer type: a class, or its qualified name (``'pkg.module.Class'``) so
# that types of optional libraries are registered without importing them.
LayerType = Union[type, str]


@dataclass
class RuleContext:
    """What a rule needs besides its record and relevance.

    Args:
        epsilon: Default stabilizer of divisions by activations.
        select: Picks the decoded samples (and dtype) from full-batch
            tensors.
        weights: Untied decoder weights by layer name (None: tied).
        propagator: Walks sub-tapes (residual branches) with the same map.
        stabilizer: How divisions by activations are guarded
            (:func:`functional.divide`).
        lazy: Whether rules with ``lazy = True`` may return
            :class:`~.functional.Scaled` relevance (the propagator's walk);
            else every rule returns a tensor.
    """
    epsilon: float
    select: F_.Select
    weights: Optional[Mapping[str, Tensor]] = None
    propagator: Optional['object'] = None
    stabilizer: str = 'cutoff'
    lazy: bool = False

    def out(self, R):
        """What a lazy rule returns: ``R`` as is in the propagator's walk,
        else as one tensor."""
        return R if self.lazy else F_.dense(R)

    def weight(self, rec: LayerRecord) -> Optional[Tensor]:
        """The decoder's weight of a layer: the module's own (tied), or the
        untied copy of that name (the classifier's own unless a copy is
        given).

        Raises:
            KeyError: Untied weights are given but none for this layer.
        """
        w = getattr(rec.module, 'weight', None)
        if self.weights is None or w is None:
            return w
        if rec.name not in self.weights:
            if rec.name.startswith(CLASSIFIER):
                return w
            raise KeyError(f'no untied decoder weight for {rec.name}')
        return self.weights[rec.name]

    def backward(self, tape: Sequence[Record], R: Tensor,
                 lazy: bool = False) -> Tensor:
        """Relevance at the input of ``tape``; with ``lazy``, possibly as
        :class:`~.functional.Scaled`."""
        R = self.propagator.backward(tape, R, self)
        return R if lazy else F_.dense(R)


class Rule:
    """Base class: ``rule(record, R, ctx)`` returns the relevance at the
    record's input, ``(K, n, *input.shape[1:])``.

    Subclasses set ``name`` and ``layer_types`` through
    :func:`register_rule`, and check their parameters in ``__init__``. A
    rule with ``lazy = True`` takes and may return the relevance as
    :class:`~.functional.Scaled` (a class-independent factor not yet
    multiplied in); the others get and return plain tensors.
    """
    name: str = ''
    layer_types: Tuple[LayerType, ...] = ()
    lazy: bool = False

    def supports(self, module: nn.Module) -> bool:
        """Whether this rule can decode ``module``."""
        return any(_is_a(module, t) for t in self.layer_types)

    def __call__(self, rec: Record, R: Tensor, ctx: RuleContext) -> Tensor:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ', '.join(f'{k}={v!r}' for k, v in vars(self).items())
        return f'{type(self).__name__}({args})'


RULES: Dict[str, Type[Rule]] = {}
LAYER_RULES: Dict[LayerType, str] = {}


def qualname(cls: type) -> str:
    """``'pkg.module.Class'``: how optional libraries' types are registered.
    """
    return f'{cls.__module__}.{cls.__qualname__}'


def _is_a(module: nn.Module, t: LayerType) -> bool:
    if isinstance(t, str):
        return any(qualname(c) == t for c in type(module).__mro__)
    return isinstance(module, t)


def register_rule(name: str,
                  default_for: Sequence[LayerType] = (),
                  supports: Sequence[LayerType] = ()) -> Callable:
    """Class decorator: register a rule under ``name``.

    Args:
        name: The ``type`` that configs use.
        default_for: Layer types this rule decodes unless a name rule says
            otherwise (see :func:`register_layer`).
        supports: Further layer types the rule may be assigned to by name.
    """

    def deco(cls: Type[Rule]) -> Type[Rule]:
        if name in RULES and RULES[name] is not cls:
            raise KeyError(f'an LRP rule named {name!r} exists: '
                           f'{RULES[name].__name__}')
        cls.name = name
        cls.layer_types = tuple(cls.layer_types) + tuple(
            t for t in (*supports, *default_for) if t not in cls.layer_types)
        RULES[name] = cls
        for t in default_for:
            register_layer(t, name)
        return cls

    return deco


def register_layer(layer_type: LayerType, rule: str) -> None:
    """Make ``rule`` the default of ``layer_type`` (and let it handle it).

    Args:
        layer_type: A module class or its qualified name; subclasses match.
        rule: A registered rule name.
    """
    if rule not in RULES:
        raise KeyError(f'unknown LRP rule {rule!r}; registered: '
                       f'{", ".join(sorted(RULES))}')
    cls = RULES[rule]
    if layer_type not in cls.layer_types:
        cls.layer_types = cls.layer_types + (layer_type, )
    LAYER_RULES[layer_type] = rule


def default_rule_name(module: nn.Module) -> Optional[str]:
    """The registered default rule of a layer, or None (no rule).

    Exact types and names are looked up first, then base classes in
    registration order.
    """
    for key in (type(module), qualname(type(module))):
        if key in LAYER_RULES:
            return LAYER_RULES[key]
    for t, rule in LAYER_RULES.items():
        if _is_a(module, t):
            return rule
    return None


def build_rule(cfg: Union[dict, Rule], where: str = 'rule') -> Rule:
    """A rule from a config dict ``dict(type=name, **params)``."""
    if isinstance(cfg, Rule):
        return cfg
    cfg = dict(cfg)
    name = cfg.pop('type', None)
    if name not in RULES:
        raise ValueError(f'{where}: unknown LRP rule type {name!r}; '
                         f'registered: {", ".join(sorted(RULES))}')
    try:
        return RULES[name](**cfg)
    except (TypeError, ValueError) as e:
        raise ValueError(f'{where} (type={name!r}): {e}') from None


# -- the rules ---------------------------------------------------------------
@register_rule('epsilon', default_for=(nn.Conv2d, nn.Linear))
class Epsilon(Rule):
    """LRP-epsilon: ``R_in = a * W^T (R / (z + eps))``; with the default
    tiny stabilizer this is LRP-0 (gradient x input for ReLU networks).

    Args:
        epsilon: Stabilizer, added as ``eps * sign(z)`` (LRP-epsilon).
            Default: the propagator's epsilon and stabilizer.
        detach_bias: Treat the bias inside ``z`` as a constant in the
            backward pass (the original code's choice); same values.
    """

    def __init__(self, epsilon: Optional[float] = None,
                 detach_bias: bool = False) -> None:
        if epsilon is not None and not epsilon > 0:
            raise ValueError(f'epsilon must be > 0, got {epsilon}')
        self.epsilon = epsilon
        self.detach_bias = bool(detach_bias)

    lazy = True

    def __call__(self, rec, R, ctx):
        eps = self.epsilon or ctx.epsilon
        how = 'sign' if self.epsilon else ctx.stabilizer
        a, z = ctx.select(rec.input), ctx.select(rec.output)
        b = getattr(rec.module, 'bias', None)
        if self.detach_bias and b is not None:
            b = b.view((1, -1) + (1, ) * (z.dim() - 2)).to(z.dtype)
            z = z - b + b.detach()
        return ctx.out(
            F_.epsilon(rec.module, ctx.weight(rec), a, z, R, eps, how))


@register_rule('alpha_beta', supports=(nn.Conv2d, ))
class AlphaBeta(Rule):
    """LRP-alpha-beta: positive contributions get ``alpha * R``, negative
    ones ``-beta * R``; the bias takes no relevance.

    Args:
        alpha: Weight of the positive part (``alpha - beta = 1``).
        beta: Weight of the negative part (``>= 0``).
    """

    def __init__(self, alpha: float = 1., beta: float = 0.) -> None:
        if abs(alpha - beta - 1) > 1e-9 or beta < 0:
            raise ValueError('alpha - beta must be 1 and beta >= 0, got '
                             f'alpha={alpha}, beta={beta}')
        self.alpha, self.beta = float(alpha), float(beta)

    def __call__(self, rec, R, ctx):
        return F_.conv_alpha_beta(rec.module, ctx.weight(rec),
                                  ctx.select(rec.input), R, self.alpha,
                                  self.beta, ctx.epsilon, ctx.stabilizer)


@register_rule('zplus', supports=(nn.Conv2d, ))
class ZPlus(AlphaBeta):
    """z+ (alpha=1, beta=0): only positive contributions."""

    def __init__(self) -> None:
        super().__init__(1., 0.)


@register_rule('batch_norm', default_for=(_BatchNorm, ))
class BatchNorm(Rule):
    """LRP-0 of BatchNorm as its affine map (see
    :func:`functional.batch_norm`: batch statistics in train mode, all
    ranks' under SyncBN).

    Args:
        detach_factors: Treat ``gamma / sigma`` and ``x / y`` as constants
            in the backward pass (the original code's choice).
    """

    lazy = True

    def __init__(self, detach_factors: bool = False) -> None:
        self.detach_factors = bool(detach_factors)

    def __call__(self, rec, R, ctx):
        return ctx.out(F_.scaled(R, F_.batch_norm(
            rec.module, ctx.weight(rec), rec.input, rec.output, None,
            ctx.epsilon, ctx.select, self.detach_factors, ctx.stabilizer)))


@register_rule('winner_takes_all', default_for=(nn.MaxPool2d, ))
class WinnerTakesAll(Rule):
    """Max pooling: each window's relevance goes to its argmax.

    Args:
        overwrite: Where overlapping windows share an argmax, the last
            window's relevance wins, as ``F.max_unpool2d`` (the original
            code); default: summed (exact).
    """

    def __init__(self, overwrite: bool = False) -> None:
        self.overwrite = bool(overwrite)

    def __call__(self, rec, R, ctx):
        return F_.max_pool(rec.module, ctx.select(rec.input), R,
                           self.overwrite)


@register_rule('avg_pool', default_for=(nn.AvgPool2d, nn.AdaptiveAvgPool2d))
class AvgPool(Rule):
    """LRP-0 of (adaptive) average pooling, a linear map."""

    def __call__(self, rec, R, ctx):
        return F_.avg_pool(rec.module, ctx.select(rec.input),
                           ctx.select(rec.output), R, ctx.epsilon,
                           ctx.stabilizer)


@register_rule('pass',
               default_for=(nn.ReLU, nn.Dropout, nn.Identity, nn.Flatten))
class Pass(Rule):
    """Relevance passes unchanged (element-wise activations, whose output
    relevance is already zero where they are zero; dropout, identity),
    reshaped to the layer's input."""

    lazy = True

    def __call__(self, rec, R, ctx):
        shape = rec.input.shape[1:]
        if isinstance(R, F_.Scaled):
            if R.R.shape[2:] == shape:
                return R
            R = F_.dense(R)
        return R.reshape(R.shape[:2] + shape)


@register_rule('residual')
class Residual(Rule):
    """A residual block: through the layers after the addition, then split
    in proportion to the two summands and walked down both branches.
    Blocks get this rule when their adapter is registered
    (:func:`adapters.register_block`)."""

    lazy = True

    def __call__(self, rec, R, ctx):
        R = ctx.backward(rec.post, R, lazy=True)
        m, s = ctx.select(rec.main_out), ctx.select(rec.shortcut_out)
        # R_m = m/t R, R_s = s/t R: class-independent factors, left pending
        inv = F_.reciprocal(m + s, ctx.epsilon, ctx.stabilizer)
        return (ctx.backward(rec.main, F_.scaled(R, m * inv)) +
                ctx.backward(rec.shortcut, F_.scaled(R, s * inv)))


class RuleMap:
    """Which rule decodes which record: the first name rule whose pattern
    matches the record's name and whose rule supports the layer, else the
    layer type's registered default.

    Args:
        rules: ``dict(layers=<fnmatch pattern>, type=<rule>, **params)`` in
            priority order. Patterns match layer names inside the encoder
            (``'layer4.*'``, ``'features.1*'``); the classifier's layers
            (``classifier.pool``, ``classifier.fc``) match only patterns
            that start with ``classifier.``.
        where: Config key for messages.
    """

    def __init__(self, rules: Sequence[dict] = (),
                 where: str = 'rules') -> None:
        self.where = where
        self.by_name: List[Tuple[str, Rule]] = []
        for i, cfg in enumerate(rules):
            cfg = dict(cfg)
            pattern = cfg.pop('layers', None)
            if not isinstance(pattern, str):
                raise ValueError(f'{where}[{i}] = {cfg!r}: needs '
                                 'layers=<pattern> and type=<rule>')
            self.by_name.append((pattern, build_rule(cfg, f'{where}[{i}]')))
        self._defaults: Dict[str, Rule] = {}

    @staticmethod
    def _matches(pattern: str, name: str) -> bool:
        return (name.startswith(CLASSIFIER) == pattern.startswith(CLASSIFIER)
                and fnmatch.fnmatchcase(name, pattern))

    def check(self, layers: Sequence[Tuple[str, nn.Module]]) -> None:
        """Refuse a name rule that would never apply.

        A rule whose pattern matches no recorded layer, or matches only
        layers its rule cannot decode, would be skipped silently (those
        layers fall back to their type's default rule). The catch-all
        patterns ``'*'`` and ``'classifier.*'`` mean "every layer the rule
        decodes" and may match none.

        Args:
            layers: ``(name, module)`` of every layer the tape records
                (encoder and classifier, see
                :func:`~.adapters.recorded_layers`).

        Raises:
            ValueError: Naming the rule's config key, its pattern and the
                nearest layer names, or the matched layers, their types and
                the rules that can decode them.
        """
        names = [n for n, _ in layers]
        for i, (pattern, rule) in enumerate(self.by_name):
            if pattern in ('*', CLASSIFIER + '*'):
                continue  # "wherever it applies": one config for models
                # with and without e.g. batch norm
            key = f'{self.where}[{i}]'
            hits = [(n, m) for n, m in layers if self._matches(pattern, n)]
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
            if not any(rule.supports(m) for _, m in hits):
                shown = ', '.join(f'{n} ({type(m).__name__})'
                                  for n, m in hits[:5])
                able = sorted({
                    name for name, cls in RULES.items() for _, m in hits
                    if any(_is_a(m, t) for t in cls.layer_types)
                })
                raise ValueError(
                    f'{key}: rule {rule.name!r} cannot decode any layer '
                    f'that layers={pattern!r} matches: {shown}; rules that '
                    'can: '
                    f'{", ".join(able) or "none (the layer type has no rule)"}'
                )

    def rule_for(self, rec: Record) -> Rule:
        """The rule that decodes ``rec``.

        Raises:
            NotImplementedError: The layer type has no rule.
        """
        for pattern, rule in self.by_name:
            if self._matches(pattern, rec.name) and rule.supports(
                    rec.module):
                return rule
        name = default_rule_name(rec.module)
        if name is None:
            raise NotImplementedError(
                f'no LRP rule for {rec.name} ({type(rec.module).__name__})')
        if name not in self._defaults:
            self._defaults[name] = RULES[name]()
        return self._defaults[name]
