"""LRP rules as objects: one call shape, one template for linear layers.

Every rule has one call shape, ``rule(record, R, ctx) -> R_in``: the record
of one layer (its module, input and output), the relevance ``R`` at its
output with the classes in front ``(K, n, ...)``, and a
:class:`RuleContext` (stabilizer, sample selection, decoder weights). Rules
are leaf-only: residual blocks are walked by the propagator. Rules are
registered by name (configs name them as dicts, ``dict(type='alpha_beta',
alpha=2., beta=1.)``); *which* layers a rule decodes by default is a value,
the layer map (:mod:`.rule_map`), not state of the rule classes.

Most rules are instances of one template, :class:`LinearRule` (zennit's
way): for a layer whose (modified) forward is linear in its input,
``R_in = sum_t a_t * J_t^T (R / z)``, where the rule only says which
``(input, weight)`` terms make up its modified forward (:meth:`terms`) and,
for a new kind of layer, what that forward is (:meth:`forward`); the
template selects the decoded samples, resolves the tied or untied weight,
applies the stabilizer, and takes the adjoint ``J^T`` from autograd (a
hand-written transposed convolution / matmul only for ``nn.Conv2d`` and
``nn.Linear``, where it is measurably faster). See ``docs/model.md``.
"""
from dataclasses import dataclass
from typing import (Callable, Dict, List, Mapping, Optional, Sequence, Tuple,
                    Type, Union)

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.conv import _ConvNd

from . import functional as F_
from .records import CLASSIFIER, LayerRecord

# A layer type: a class, or its qualified name (``'pkg.module.Class'``) so
# that types of optional libraries are named without importing them.
LayerType = Union[type, str]


@dataclass
class RuleContext:
    """What a rule needs besides its record and relevance.

    Args:
        epsilon: Default stabilizer of divisions by activations.
        select: Picks the decoded samples (and dtype) from full-batch
            tensors.
        weights: Untied decoder weights by layer name (None: tied).
        stabilizer: How divisions by activations are guarded
            (:func:`functional.divide`).
        lazy: Whether rules with ``lazy = True`` may return
            :class:`~.functional.Scaled` relevance (the propagator's walk);
            else every rule returns a tensor.
    """
    epsilon: float
    select: F_.Select
    weights: Optional[Mapping[str, Tensor]] = None
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
        w = getattr(rec.module, 'weight', None) if rec.fn is None else None
        if self.weights is None or not isinstance(w, Tensor):
            return w if isinstance(w, Tensor) else None
        if rec.name not in self.weights:
            if rec.name.startswith(CLASSIFIER):
                return w
            raise KeyError(f'no untied decoder weight for {rec.name}')
        return self.weights[rec.name]

    def divide(self, R, z: Tensor) -> Tensor:
        """``R / z`` with the context's stabilizer, as one tensor (``R``
        may be :class:`~.functional.Scaled`: its factor and ``1 / z`` are
        multiplied first)."""
        return F_.dense(F_.scaled(R, F_.reciprocal(z, self.epsilon,
                                                   self.stabilizer)))


class Rule:
    """Base class: ``rule(record, R, ctx)`` returns the relevance at the
    record's input, ``(K, n, *input.shape[1:])``.

    Subclasses list the layer types they can decode in ``layer_types``
    (the layer map may assign them to further types), and check their
    parameters in ``__init__``. A rule with ``lazy = True`` takes and may
    return the relevance as :class:`~.functional.Scaled` (a
    class-independent factor not yet multiplied in); the others get and
    return plain tensors.
    """
    name: str = ''
    layer_types: Tuple[LayerType, ...] = ()
    ops: bool = False  # whether it decodes recorded operations (rec.fn)
    lazy: bool = False

    def supports(self, module: nn.Module) -> bool:
        """Whether this rule can decode ``module`` (by its own types)."""
        return any(is_a(module, t) for t in self.layer_types)

    def __call__(self, rec: LayerRecord, R: Tensor,
                 ctx: RuleContext) -> Tensor:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ', '.join(f'{k}={v!r}' for k, v in vars(self).items())
        return f'{type(self).__name__}({args})'


RULES: Dict[str, Type[Rule]] = {}


def qualname(cls: type) -> str:
    """``'pkg.module.Class'``: how optional libraries' types are named."""
    return f'{cls.__module__}.{cls.__qualname__}'


def is_a(module: nn.Module, t: LayerType) -> bool:
    """``isinstance`` for a class or a qualified class name."""
    if isinstance(t, str):
        return any(qualname(c) == t for c in type(module).__mro__)
    return isinstance(module, t)


def register_rule(name: str) -> Callable:
    """Class decorator: register a rule under ``name``, the ``type`` that
    configs use."""

    def deco(cls: Type[Rule]) -> Type[Rule]:
        if name in RULES and RULES[name] is not cls:
            raise KeyError(f'an LRP rule named {name!r} exists: '
                           f'{RULES[name].__name__}')
        cls.name = name
        RULES[name] = cls
        return cls

    return deco


def build_rule(cfg: Union[str, dict, Rule], where: str = 'rule') -> Rule:
    """A rule from a name or a config dict ``dict(type=name, **params)``."""
    if isinstance(cfg, Rule):
        return cfg
    cfg = dict(type=cfg) if isinstance(cfg, str) else dict(cfg)
    name = cfg.pop('type', None)
    if name not in RULES:
        raise ValueError(f'{where}: unknown LRP rule type {name!r}; '
                         f'registered: {", ".join(sorted(RULES))}')
    try:
        return RULES[name](**cfg)
    except (TypeError, ValueError) as e:
        raise ValueError(f'{where} (type={name!r}): {e}') from None


# -- the template ------------------------------------------------------------
def _plain_conv2d(m: nn.Module) -> bool:
    """A Conv2d with numeric zero padding: the hand-written adjoint
    (transposed convolution) applies; other padding modes ('reflect',
    'same', ...) go through the module's own ``_conv_forward``."""
    return (isinstance(m, nn.Conv2d) and m.padding_mode == 'zeros'
            and not isinstance(m.padding, str))


Term = Tuple[Tensor, Optional[Tensor]]


class LinearRule(Rule):
    """Template of the rules for layers whose (modified) forward is linear
    in the input: ``R_in = sum_t a_t * J(w_t)^T (R / z)``.

    A rule says which ``(input, weight)`` terms make up its modified forward
    (:meth:`terms`; default one term, the layer itself: LRP-0 / epsilon);
    ``z`` is the recorded output (bias included) when the terms are the
    layer itself, else the sum of the terms' forwards (the bias takes no
    relevance). A new kind of layer overrides :meth:`forward`, its linear
    part; the adjoint comes from autograd.
    """
    layer_types = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)
    lazy = True
    exact = True  # terms are the layer itself: divide by the recorded z

    def terms(self, a: Tensor, w: Optional[Tensor]) -> Sequence[Term]:
        """The modified forward's ``(input, weight)`` terms."""
        return ((a, w), )

    def forward(self, rec: LayerRecord, ctx: RuleContext, t: Tensor,
                w: Optional[Tensor]) -> Tensor:
        """The layer's linear part (no bias) on ``t`` ``(K, n, ...)``."""
        m = rec.module
        if rec.fn is not None:
            return rec.fn(t)
        if isinstance(m, nn.Linear):
            return F.linear(t, w)
        if _plain_conv2d(m):
            return F_.folded(lambda u: F_.conv(m, u, w))(t)
        if isinstance(m, _ConvNd) and not m.transposed:
            return F_.folded(lambda u: m._conv_forward(u, w, None))(t)
        raise NotImplementedError(
            f'{type(self).__name__} has no linear part for {rec.name} '
            f'({type(m).__name__}): override forward()')

    def adjoint(self, rec: LayerRecord, ctx: RuleContext, s: Tensor,
                w: Optional[Tensor], in_shape: torch.Size) -> Tensor:
        """``J^T s``: hand-written for conv2d / linear, else autograd."""
        m = rec.module
        if rec.fn is None and type(self).forward is LinearRule.forward:
            if isinstance(m, nn.Linear):
                return torch.matmul(s, w)
            if _plain_conv2d(m):
                return F_.conv_transpose(s, w, m, in_shape)
        return F_.probe_adjoint(lambda t: self.forward(rec, ctx, t, w), s,
                                in_shape)

    def relevance(self, rec: LayerRecord, R, ctx: RuleContext,
                  terms: Sequence[Term], z: Tensor):
        s = ctx.divide(R, z)
        out = None
        for a, w in terms:
            c = self.adjoint(rec, ctx, s, w, a.shape)
            out = F_.Scaled(c, a) if out is None else F_.dense(out) + a * c
        return out

    def __call__(self, rec, R, ctx):
        a = ctx.select(rec.input)
        terms = self.terms(a, ctx.weight(rec))
        if self.exact:
            z = ctx.select(rec.output)
        else:
            z = sum(self.forward(rec, ctx, x[None], w)[0] for x, w in terms)
        return ctx.out(self.relevance(rec, R, ctx, terms, z))


# -- the rules ---------------------------------------------------------------
@register_rule('epsilon')
class Epsilon(LinearRule):
    """LRP-epsilon: ``R_in = a * W^T (R / (z + eps))``; with the default
    tiny stabilizer this is LRP-0 (gradient x input for ReLU networks).
    Conv (1-3 d), linear layers (on tokens too) and recorded linear
    operations.

    Args:
        epsilon: Stabilizer, added as ``eps * sign(z)`` (LRP-epsilon).
            Default: the propagator's epsilon and stabilizer.
        detach_bias: Treat the bias inside ``z`` as a constant in the
            backward pass (the original code's choice); same values.
    """

    ops = True  # recorded linear operations (a ViT's pos_embed glue) too

    def __init__(self, epsilon: Optional[float] = None,
                 detach_bias: bool = False) -> None:
        if epsilon is not None and not epsilon > 0:
            raise ValueError(f'epsilon must be > 0, got {epsilon}')
        self.epsilon = epsilon
        self.detach_bias = bool(detach_bias)

    def __call__(self, rec, R, ctx):
        if self.epsilon:
            ctx = RuleContext(self.epsilon, ctx.select, ctx.weights, 'sign',
                              ctx.lazy)
        a, z = ctx.select(rec.input), ctx.select(rec.output)
        b = getattr(rec.module, 'bias', None) if rec.fn is None else None
        if self.detach_bias and b is not None:
            shape = ((1, ) * (z.dim() - 1) + (-1, )) if isinstance(
                rec.module, nn.Linear) else (1, -1) + (1, ) * (z.dim() - 2)
            b = b.view(shape).to(z.dtype)  # linear: on tokens too
            z = z - b + b.detach()
        return ctx.out(self.relevance(rec, R, ctx,
                                      self.terms(a, ctx.weight(rec)), z))


@register_rule('alpha_beta')
class AlphaBeta(LinearRule):
    """LRP-alpha-beta: positive contributions get ``alpha * R``, negative
    ones ``-beta * R``; the bias takes no relevance.

    Args:
        alpha: Weight of the positive part (``alpha - beta = 1``).
        beta: Weight of the negative part (``>= 0``).
    """
    exact = False
    ops = False

    def __init__(self, alpha: float = 1., beta: float = 0.) -> None:
        if abs(alpha - beta - 1) > 1e-9 or beta < 0:
            raise ValueError('alpha - beta must be 1 and beta >= 0, got '
                             f'alpha={alpha}, beta={beta}')
        self.alpha, self.beta = float(alpha), float(beta)

    @staticmethod
    def signed_terms(a: Tensor, w: Tensor, positive: bool) -> List[Term]:
        wp, wn = w.clamp(min=0), w.clamp(max=0)
        if positive:
            out = [(a.clamp(min=0), wp), (a.clamp(max=0), wn)]
        else:
            out = [(a.clamp(min=0), wn), (a.clamp(max=0), wp)]
        # After a ReLU the input has no negative part: that term is exactly
        # zero (values and gradients) and is not computed.
        return out if bool((a < 0).any()) else out[:1]

    def __call__(self, rec, R, ctx):
        a, w = ctx.select(rec.input), ctx.weight(rec)
        R = F_.dense(R)
        out = 0
        for sign, factor in ((True, self.alpha), (False, -self.beta)):
            if factor:
                terms = self.signed_terms(a, w, sign)
                z = sum(self.forward(rec, ctx, x[None], v)[0]
                        for x, v in terms)
                out = out + factor * F_.dense(
                    self.relevance(rec, R, ctx, terms, z))
        return out


@register_rule('zplus')
class ZPlus(AlphaBeta):
    """z+ (alpha=1, beta=0): only positive contributions."""

    def __init__(self) -> None:
        super().__init__(1., 0.)


@register_rule('layer_norm')
class LayerNormRule(LinearRule):
    """LayerNorm with its normalisation ``1 / sigma`` treated as constant
    (Ali et al., ICML 2022): the layer is then linear (centring, scaling by
    ``gamma / sigma``) and decoded as LRP-0 / epsilon."""
    layer_types = (nn.LayerNorm, )
    ops = False

    def forward(self, rec, ctx, t, w):
        m = rec.module
        dims = tuple(range(-len(m.normalized_shape), 0))
        x = ctx.select(rec.input)
        inv = torch.rsqrt(x.var(dims, unbiased=False, keepdim=True) +
                          m.eps).detach()
        y = (t - t.mean(dims, keepdim=True)) * inv
        return y * w if w is not None else y


@register_rule('attention')
class Attention(LinearRule):
    """Multi-head attention's core ``softmax(q k^T / sqrt(d)) v`` with the
    attention probabilities treated as constant (Ali et al., ICML 2022): a
    linear map of the values; queries and keys get no relevance. The record
    is the core alone: input ``qkv`` ``(n, L, 3C)``, output the heads'
    merged output ``(n, L, C)`` (the architecture adapter records it)."""
    layer_types = ('mmpretrain.models.utils.attention.MultiheadAttention', )
    ops = False

    @staticmethod
    def probs(m: nn.Module, qkv: Tensor) -> Tensor:
        n, L = qkv.shape[:2]
        h, d = m.num_heads, qkv.shape[-1] // (3 * m.num_heads)
        q, k, _ = qkv.reshape(n, L, 3, h, d).permute(2, 0, 3, 1, 4)
        return torch.softmax(q @ k.transpose(-2, -1) * d**-0.5, -1)

    def forward(self, rec, ctx, t, w):
        m = rec.module
        P = self.probs(m, ctx.select(rec.input)).detach()  # (n, h, L, L)
        lead, (L, c3) = t.shape[:-2], t.shape[-2:]
        h = m.num_heads
        v = t[..., 2 * c3 // 3:].reshape(lead + (L, h, -1)).transpose(-3, -2)
        return (P @ v).transpose(-3, -2).reshape(lead + (L, c3 // 3))


@register_rule('attn_lrp')
class AttnLRP(Rule):
    """AttnLRP's rules for the attention core (Achtibat et al., ICML 2024),
    an option to :class:`Attention`: queries and keys get relevance too.

    Per head, ``S = q k^T / sqrt(d)``, ``P = softmax(S)``, ``O = P v``. The
    bilinear products split each term's relevance evenly between their two
    factors (the uniform rule): ``R_P = P * ((R_O / O) v^T) / 2``,
    ``R_v = v * (P^T (R_O / O)) / 2``, likewise for ``q`` and ``k`` from
    ``R_S``; the softmax takes ``R_S = S * (R_P - P sum_j R_P)`` (its
    first-order Taylor rule). Not conservative (the softmax absorbs some
    relevance), and LRP-0 with it is no longer gradient x input.
    """
    layer_types = Attention.layer_types

    def __call__(self, rec, R, ctx):
        m, qkv = rec.module, ctx.select(rec.input)
        n, L, c3 = qkv.shape
        h = m.num_heads
        d = c3 // (3 * h)
        q, k, v = qkv.reshape(n, L, 3, h, d).permute(2, 0, 3, 1, 4)
        S = q @ k.transpose(-2, -1) * d**-0.5
        P = torch.softmax(S, -1)
        Ou = ctx.select(rec.output).reshape(n, L, h, d).transpose(1, 2)
        R = F_.dense(R)
        R_O = R.reshape(R.shape[:2] + (L, h, d)).transpose(2, 3)
        s = ctx.divide(R_O, Ou)
        R_P = 0.5 * P * (s @ v.transpose(-2, -1))
        R_v = 0.5 * v * (P.transpose(-2, -1) @ s)
        R_S = S * (R_P - P * R_P.sum(-1, keepdim=True))
        s = ctx.divide(R_S, S) * d**-0.5
        R_q = 0.5 * q * (s @ k)
        R_k = 0.5 * k * (s.transpose(-2, -1) @ q)
        out = torch.stack([R_q, R_k, R_v], 2)  # (K, n, 3, h, L, d)
        return out.permute(0, 1, 4, 2, 3, 5).reshape(R.shape[:2] + (L, c3))


@register_rule('batch_norm')
class BatchNorm(Rule):
    """LRP-0 of BatchNorm as its affine map (see
    :func:`functional.batch_norm`: batch statistics in train mode, all
    ranks' under SyncBN).

    Args:
        detach_factors: Treat ``gamma / sigma`` and ``x / y`` as constants
            in the backward pass (the original code's choice).
    """
    layer_types = (_BatchNorm, )
    lazy = True

    def __init__(self, detach_factors: bool = False) -> None:
        self.detach_factors = bool(detach_factors)

    def __call__(self, rec, R, ctx):
        return ctx.out(F_.scaled(R, F_.batch_norm(
            rec.module, ctx.weight(rec), rec.input, rec.output, None,
            ctx.epsilon, ctx.select, self.detach_factors, ctx.stabilizer)))


@register_rule('winner_takes_all')
class WinnerTakesAll(Rule):
    """Max pooling: each window's relevance goes to its argmax.

    Args:
        overwrite: Where overlapping windows share an argmax, the last
            window's relevance wins, as ``F.max_unpool2d`` (the original
            code); default: summed (exact).
    """
    layer_types = (nn.MaxPool2d, )

    def __init__(self, overwrite: bool = False) -> None:
        self.overwrite = bool(overwrite)

    def __call__(self, rec, R, ctx):
        return F_.max_pool(rec.module, ctx.select(rec.input), F_.dense(R),
                           self.overwrite)


@register_rule('avg_pool')
class AvgPool(Rule):
    """LRP-0 of (adaptive) average pooling, a linear map."""
    layer_types = (nn.AvgPool2d, nn.AdaptiveAvgPool2d)

    def __call__(self, rec, R, ctx):
        return F_.avg_pool(rec.module, ctx.select(rec.input),
                           ctx.select(rec.output), F_.dense(R), ctx.epsilon,
                           ctx.stabilizer)


@register_rule('pass')
class Pass(Rule):
    """Relevance passes unchanged (element-wise activations, whose output
    relevance is already zero where they are zero; dropout, identity),
    reshaped to the layer's input."""
    layer_types = (nn.ReLU, nn.Dropout, nn.Identity, nn.Flatten)
    lazy = True

    def __call__(self, rec, R, ctx):
        shape = rec.input.shape[1:]
        if isinstance(R, F_.Scaled):
            if R.R.shape[2:] == shape:
                return ctx.out(R)
            R = F_.dense(R)
        return R.reshape(R.shape[:2] + shape)


@register_rule('gate')
class Gate(Rule):
    """An element-wise activation ``a = z * g(z)`` (GELU, SiLU) with its
    gate ``g`` treated as constant: relevance passes unchanged (the
    "identity" rule for GELU), and the decoder's gradient is that of
    gradient x input with the gate detached."""
    layer_types = (nn.GELU, nn.SiLU)
    lazy = True

    def __call__(self, rec, R, ctx):
        z, a = ctx.select(rec.input), ctx.select(rec.output)
        gate = (a * F_.reciprocal(z, ctx.epsilon, ctx.stabilizer)).detach()
        # R = a * s arrives from above: times z g / a is z g s (= R)
        return ctx.out(F_.scaled(R, z * gate * F_.reciprocal(
            a, ctx.epsilon, ctx.stabilizer)))


@register_rule('move')
class Move(Rule):
    """Operations that only move values (select, reshape, transpose, pad):
    relevance moves with them, ``R_in = J^T R``, no division."""
    ops = True

    def __call__(self, rec, R, ctx):
        fn = rec.fn if rec.fn is not None else rec.module
        return F_.probe_adjoint(fn, F_.dense(R),
                                ctx.select(rec.input).shape)
