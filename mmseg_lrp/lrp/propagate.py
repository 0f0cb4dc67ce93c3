"""The unrolled LRP decoder: walks a tape backwards, all classes at once.

:class:`LRPPropagator` turns the tape of one forward call (encoder, then the
classifier recorded on the same tape) into one heatmap per class. Relevance
starts as ``z_k e_k`` at the tape's output (the logits) and each layer
record's rule (chosen by a :class:`~.rule_map.RuleMap`) takes it one layer
down; residual sums are split in proportion to their summands and both
branches walked here (rules are leaf-only).
Classes are folded into a leading dimension of the relevance (one pass for
all of them); a memory-bounded mode decodes class chunks under activation
checkpointing (exact, one backward); ``select`` restricts decoding to some
samples of the batch (e.g. those with pixel labels).
"""
import numbers
from typing import Dict, Mapping, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor
from torch.utils.checkpoint import checkpoint

from . import functional as F_
from .functional import STABILIZERS, Scaled, Select, dense
from .records import CLASSIFIER, Record, ResidualRecord, Tape
from .rule_map import LayerMap, RuleMap
from .rules import RuleContext


def select_rows(index: Optional[Tensor] = None,
                fp32: bool = False) -> Select:
    """Picks the samples ``index`` (all if None) from a full-batch tensor;
    with ``fp32``, half-precision tensors (AMP) come back as float32."""

    def select(t: Tensor) -> Tensor:
        if index is not None:
            t = t.index_select(0, index)
        if fp32 and t.dtype in (torch.float16, torch.bfloat16):
            t = t.float()
        return t

    return select


def select_once(tape: Tape, select: Select) -> Select:
    """``select`` applied once to each tensor of the tape, up front.

    A layer's output is also the next layer's input (and BN's, a residual
    summand's): picking it per use would copy it, and back-propagate into a
    full-batch buffer, once per use. Done before any checkpointed region,
    so recomputation sees the same tensors.
    """
    picked: Dict[int, Tuple[Tensor, Tensor]] = {}

    def pick(t: Tensor) -> Tensor:
        hit = picked.get(id(t))
        if hit is not None and hit[0] is t:
            return hit[1]
        out = select(t)
        picked[id(t)] = (t, out)
        return out

    for rec in tape.records():
        tensors = (rec.main_out, rec.shortcut_out) if isinstance(
            rec, ResidualRecord) else (rec.input, rec.output)
        for t in tensors:
            if isinstance(t, Tensor):
                pick(t)
    return pick


class LRPPropagator:
    """Relevance propagation through a recorded tape.

    Args:
        epsilon: Stabilizer of LRP-epsilon (and of every division by an
            activation). The default 1e-8 is effectively LRP-0.
        rules: Rules for layer groups, first match wins:
            ``dict(layers='features.1*', type='zplus')`` or
            ``dict(layers=..., type='alpha_beta', alpha=2., beta=1.)``
            (see :class:`~.rule_map.RuleMap`). Other layers use their type's
            registered default (LRP-epsilon for conv and linear layers).
        where: Config key of ``rules``, for messages.
        stabilizer: How divisions by activations are guarded:
            ``'cutoff'`` (default: units with ``|z| <= epsilon`` pass no
            relevance; the weight gradient is that of gradient x input) or
            ``'sign'`` (``z + epsilon * sign(z)``, LRP-epsilon; its weight
            gradient has spikes of up to ``1 / epsilon`` at units near 0)
            or ``'shift'`` (``z + epsilon`` whatever the sign: the original
            code's ``safe_divide``); see :func:`~.functional.divide`.
            Rules given their own ``epsilon`` use ``'sign'``.
        prefix: Config key prefix of ``epsilon`` and ``stabilizer`` in
            messages, e.g. ``'model.decode_head.'``.
        layer_map: Default rule of each layer type (default: the registered
            families' map, :func:`~.archs.layer_map`).
    """

    def __init__(self, epsilon: float = 1e-8,
                 rules: Sequence[dict] = (),
                 where: str = 'rules',
                 stabilizer: str = 'cutoff',
                 prefix: str = '',
                 layer_map: Optional[LayerMap] = None) -> None:
        if not (isinstance(epsilon, numbers.Real) and epsilon > 0):
            raise ValueError(f'{prefix}epsilon must be > 0, got {epsilon!r}')
        if stabilizer not in STABILIZERS:
            raise ValueError(f'{prefix}stabilizer must be one of '
                             f'{STABILIZERS}, got {stabilizer!r}')
        self.epsilon = float(epsilon)
        self.stabilizer = stabilizer
        self.rule_map = RuleMap(rules, where, layer_map)

    def context(self, select: Optional[Select] = None,
                weights: Optional[Mapping[str, Tensor]] = None,
                lazy: bool = False) -> RuleContext:
        return RuleContext(self.epsilon, select or select_rows(), weights,
                           self.stabilizer, lazy)

    # -- tape walk -----------------------------------------------------------
    def backward(self, tape: Sequence[Record], R: Union[Tensor, Scaled],
                 ctx: RuleContext, checkpoint_records: bool = False
                 ) -> Union[Tensor, Scaled]:
        """Propagate ``R`` from the output of ``tape`` to its input.

        Args:
            tape: Records in forward order.
            R: ``(K, n, ...)`` relevance at the tape's output.
            ctx: Sample selection, stabilizer, decoder weights.
            checkpoint_records: Recompute each record's step in the backward
                pass: only the relevance between records is kept.

        Returns:
            ``(K, n, ...)`` relevance at the tape's input, possibly as
            :class:`Scaled` (see :func:`dense`).
        """
        for rec in reversed(tape):
            if checkpoint_records and torch.is_grad_enabled():
                R = checkpoint(self._dense_step, rec, dense(R), ctx,
                               use_reentrant=False)
            else:
                R = self.step(rec, R, ctx)
        return R

    def _dense_step(self, rec: Record, R: Tensor, ctx: RuleContext
                    ) -> Tensor:
        return dense(self.step(rec, R, ctx))

    def step(self, rec: Record, R: Union[Tensor, Scaled], ctx: RuleContext
             ) -> Union[Tensor, Scaled]:
        """Take ``R`` through one record: a layer's rule, or a residual sum.

        A functional flatten between recorded layers (e.g. before a linear
        classifier) is undone first: ``R`` takes the shape of the record's
        output. Any other mismatch is an error (an unrecorded operation).
        """
        out = rec.output
        residual = isinstance(rec, ResidualRecord)
        rule = None if residual else self.rule_map.rule_for(rec)
        shape = (R.R if isinstance(R, Scaled) else R).shape
        reshape = isinstance(out, Tensor) and shape[2:] != out.shape[1:]
        if reshape or not (residual or rule.lazy):
            R = dense(R)
        if reshape:
            flat = R.dim() == 3 or out.dim() == 2
            if not flat or R[0, 0].numel() != out[0].numel():
                raise RuntimeError(
                    f'relevance of shape {tuple(R.shape[2:])} reaches '
                    f'{rec.name} ({type(rec.module).__name__}), whose output '
                    f'is {tuple(out.shape[1:])}: an operation between '
                    'recorded layers has no LRP rule')
            R = R.reshape(R.shape[:2] + out.shape[1:])
        return self.residual(rec, R, ctx) if residual else rule(rec, R, ctx)

    def residual(self, rec: ResidualRecord, R: Union[Tensor, Scaled],
                 ctx: RuleContext) -> Tensor:
        """A residual sum: through the layers after the addition, then split
        in proportion to the two summands, ``R_m = m / (m + s) R``, and down
        both branches."""
        R = self.backward(rec.post, R, ctx)
        m, s = ctx.select(rec.main_out), ctx.select(rec.shortcut_out)
        # class-independent factors, left pending
        inv = F_.reciprocal(m + s, ctx.epsilon, ctx.stabilizer)
        return (dense(self.backward(rec.main, F_.scaled(R, m * inv), ctx)) +
                dense(self.backward(rec.shortcut, F_.scaled(R, s * inv),
                                    ctx)))

    # -- from classifier logits to heatmaps ----------------------------------
    def start(self, tape: Tape, classes: Tensor, ctx: RuleContext) -> Tensor:
        """``R = z_k e_k`` at the tape's output (the logits).

        Args:
            tape: A tape that ends with the classifier.
            classes: ``(k, )`` classes to decode for every sample, or
                ``(n, k)`` per selected sample.
            ctx: Picks the decoded samples.

        Returns:
            ``(k, n, *logits.shape[1:])``.
        """
        z = ctx.select(tape.output())
        n, num_classes = z.shape[:2]
        if classes.dim() == 1:
            classes = classes.unsqueeze(0).expand(n, -1)
        onehot = torch.zeros((classes.shape[1], n, num_classes),
                             dtype=z.dtype, device=z.device)
        onehot.scatter_(2, classes.t().unsqueeze(2), 1.)
        onehot = onehot.view(onehot.shape + (1, ) * (z.dim() - 2))
        return onehot * z.unsqueeze(0)

    def heatmaps(self,
                 tape: Tape,
                 classes: Optional[Tensor] = None,
                 select: Optional[Select] = None,
                 class_chunk: Optional[int] = None,
                 use_checkpoint: bool = False,
                 weights: Optional[Mapping[str, Tensor]] = None) -> Tensor:
        """Heatmaps: relevance at the input, summed over channels.

        Args:
            tape: Tape of one forward call, classifier included (its last
                output is the logits ``(N, K, ...)``).
            classes: Classes to decode, ``(k, )`` for all samples or
                ``(n, k)`` per selected sample (default: all K).
            select: Picks the decoded samples from full-batch tensors
                (default: all, unchanged dtype; see :func:`select_rows`).
            class_chunk: Decode this many classes at a time (default: all
                at once).
            use_checkpoint: Memory-bounded exact mode: each class chunk is
                recomputed in the backward pass, and inside it each
                top-level record (layer or residual block), so that only
                one chunk's relevance between records and one record's
                intermediates are alive at a time.
            weights: Untied decoder weights by layer name (default: tied).

        Returns:
            ``(n, k, H, W)`` heatmaps at the input resolution, in the order
            of ``classes``.
        """
        if not tape.has_classifier():
            raise ValueError(
                'heatmaps need a tape that ends with the classifier '
                f'(records named {CLASSIFIER}*, see Tape.record)')
        ctx = self.context(select_once(tape, select or select_rows()),
                           weights, lazy=True)
        if classes is None:
            logits = tape.output()
            classes = torch.arange(logits.shape[1], device=logits.device)
        k = classes.shape[-1]
        chunk = class_chunk or k
        outs = []
        for first in range(0, k, chunk):
            part = classes[..., first:first + chunk]

            def run(part=part):
                R = self.start(tape, part, ctx)
                R = self.backward(tape, R, ctx,
                                  checkpoint_records=use_checkpoint)
                return dense(R).sum(2)  # (k, n, H, W)

            if use_checkpoint and torch.is_grad_enabled():
                outs.append(checkpoint(run, use_reentrant=False))
            else:
                outs.append(run())
        return torch.cat(outs, 0).transpose(0, 1)
