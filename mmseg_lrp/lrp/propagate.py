"""The unrolled LRP decoder: walks a tape backwards, all classes at once.

:class:`LRPPropagator` turns the tape of one encoder forward call plus a
global-average-pool + linear classifier into one heatmap per class. Classes
are folded into a leading dimension of the relevance (one pass for all of
them); a memory-bounded mode decodes class chunks under activation
checkpointing (exact, one backward); a sample index restricts decoding to
some samples of the batch (e.g. those with pixel labels).
"""
import fnmatch
from typing import List, Mapping, Optional, Sequence

import torch
import torch.nn as nn
from torch import Tensor
from torch.utils.checkpoint import checkpoint

from . import rules as R_
from .tape import LayerRecord, Record, ResidualRecord

CONV_RULES = ('epsilon', 'zplus', 'alpha_beta')


class LRPPropagator:
    """Relevance propagation through a recorded tape.

    Args:
        epsilon: Stabilizer of LRP-epsilon (and of every division by an
            activation). The default 1e-8 is effectively LRP-0.
        conv_rules: Rules for conv layers by layer group, first match wins:
            dicts ``dict(layers='features.1*', type='zplus')`` or
            ``dict(layers=..., type='alpha_beta', alpha=2., beta=1.)``;
            ``layers`` is an fnmatch pattern on the layer's name inside the
            encoder. Layers that match none use LRP-epsilon.
    """

    def __init__(self,
                 epsilon: float = 1e-8,
                 conv_rules: Sequence[dict] = ()) -> None:
        if not epsilon > 0:
            raise ValueError(f'epsilon must be > 0, got {epsilon}')
        self.epsilon = float(epsilon)
        self.conv_rules = []
        for i, rule in enumerate(conv_rules):
            rule = dict(rule)
            if 'layers' not in rule or rule.get('type') not in CONV_RULES:
                raise ValueError(
                    f'conv_rules[{i}] = {rule!r}: needs layers=<pattern> and '
                    f'type in {CONV_RULES}')
            if rule['type'] == 'alpha_beta':
                alpha, beta = rule.get('alpha', 1.), rule.get('beta', 0.)
                if abs(alpha - beta - 1) > 1e-9 or beta < 0:
                    raise ValueError(
                        f'conv_rules[{i}]: alpha - beta must be 1 and '
                        f'beta >= 0, got alpha={alpha}, beta={beta}')
            self.conv_rules.append(rule)

    def conv_rule(self, name: str) -> dict:
        """The rule dict that applies to the conv layer ``name``."""
        for rule in self.conv_rules:
            if fnmatch.fnmatchcase(name, rule['layers']):
                return rule
        return dict(type='epsilon')

    # -- tape walk -----------------------------------------------------
    def backward(self,
                 tape: List[Record],
                 R: Tensor,
                 select: R_.Select,
                 weights: Optional[Mapping[str, Tensor]] = None,
                 checkpoint_records: bool = False) -> Tensor:
        """Propagate ``R`` from the output of ``tape`` to its input.

        Args:
            tape: Records in forward order.
            R: ``(K, n, ...)`` relevance at the tape's output.
            select: Picks the decoded samples from full-batch tensors.
            weights: Untied decoder weights by layer name (default: each
                layer's own weight, i.e. tied).
            checkpoint_records: Recompute each record's step in the backward
                pass: only the relevance between records is kept.

        Returns:
            ``(K, n, ...)`` relevance at the tape's input.
        """
        for rec in reversed(tape):
            if checkpoint_records and torch.is_grad_enabled():
                R = checkpoint(self.step, rec, R, select, weights,
                               use_reentrant=False)
            else:
                R = self.step(rec, R, select, weights)
        return R

    def step(self,
             rec: Record,
             R: Tensor,
             select: R_.Select,
             weights: Optional[Mapping[str, Tensor]] = None) -> Tensor:
        """Apply the rule of one record."""
        eps = self.epsilon
        if isinstance(rec, ResidualRecord):
            R = self.backward(rec.post, R, select, weights)
            R_main, R_short = R_.residual_split(
                select(rec.main_out), select(rec.shortcut_out), R, eps)
            return (self.backward(rec.main, R_main, select, weights) +
                    self.backward(rec.shortcut, R_short, select, weights))
        assert isinstance(rec, LayerRecord)
        m, kind = rec.module, rec.kind
        if kind == 'pass':
            return R
        if kind in ('conv', 'linear', 'bn'):
            weight = m.weight if weights is None else weights[rec.name]
        if kind == 'conv':
            rule = self.conv_rule(rec.name)
            if rule['type'] == 'epsilon':
                return R_.conv_epsilon(m, weight, select(rec.input),
                                       select(rec.output), R, eps)
            alpha, beta = ((1., 0.) if rule['type'] == 'zplus' else
                           (rule.get('alpha', 1.), rule.get('beta', 0.)))
            return R_.conv_alpha_beta(m, weight, select(rec.input), R, alpha,
                                      beta, eps)
        if kind == 'linear':
            return R_.linear_epsilon(weight, select(rec.input),
                                     select(rec.output), R, eps)
        if kind == 'bn':
            return R_.batch_norm(m, weight, rec.input, rec.output, R, eps,
                                 select)
        if kind == 'maxpool':
            return R_.max_pool(m, select(rec.input), R)
        if kind == 'avgpool':
            return R_.avg_pool(m, select(rec.input), select(rec.output), R,
                               eps)
        raise NotImplementedError(f'no LRP rule for {kind!r} ({rec.name})')

    # -- from classifier logits to heatmaps ----------------------------
    def start(self, feat: Tensor, pooled: Tensor, logits: Tensor,
              pool: nn.Module, weight: Tensor, classes: Tensor,
              select: R_.Select) -> Tensor:
        """Relevance at the feature map for ``R = z_k e_k`` at the logits.

        Args:
            feat: Encoder output ``(N, C, h, w)``.
            pooled: ``pool(feat)`` flattened, ``(N, C)``.
            logits: ``(N, K)`` classifier logits.
            pool: The global pooling module.
            weight: Classifier weight ``(K, C)``.
            classes: Class indices to decode, ``(k, )``.
            select: Picks the decoded samples.

        Returns:
            ``(k, n, C, h, w)``.
        """
        z = select(logits)
        onehot = torch.zeros((len(classes), ) + z.shape, dtype=z.dtype,
                             device=z.device)
        onehot[torch.arange(len(classes)), :, classes] = 1
        R = onehot * z.unsqueeze(0)  # z_k e_k
        R = R_.linear_epsilon(weight, select(pooled), z, R, self.epsilon)
        R = R.view(R.shape + (1, 1))
        a = select(feat)
        z_pool = select(pooled).view(a.shape[0], -1, 1, 1)
        return R_.avg_pool(pool, a, z_pool, R, self.epsilon)

    def heatmaps(self,
                 tape: List[Record],
                 feat: Tensor,
                 pooled: Tensor,
                 logits: Tensor,
                 pool: nn.Module,
                 weight: Tensor,
                 index: Optional[Tensor] = None,
                 class_chunk: Optional[int] = None,
                 use_checkpoint: bool = False,
                 weights: Optional[Mapping[str, Tensor]] = None,
                 select: Optional[R_.Select] = None) -> Tensor:
        """Heatmaps of all classes: relevance at the input, summed over
        channels.

        Args:
            tape: Tape of the encoder forward call that produced ``feat``.
            feat: Encoder output ``(N, C, h, w)``.
            pooled: Pooled features ``(N, C)``.
            logits: Classifier logits ``(N, K)``.
            pool: The global pooling module.
            weight: Classifier weight ``(K, C)``.
            index: Samples to decode (default: all).
            class_chunk: Decode this many classes at a time (default: all
                at once).
            use_checkpoint: Memory-bounded exact mode: each class chunk is
                recomputed in the backward pass, and inside it each
                top-level record (layer or residual block), so that only
                one chunk's relevance between records and one record's
                intermediates are alive at a time.
            weights: Untied decoder weights by layer name (default: tied).
            select: Picks the decoded samples from full-batch tensors
                (default: ``index`` rows, unchanged dtype).

        Returns:
            ``(n, K, H, W)`` heatmaps at the input resolution.
        """
        select = select or R_.select_rows(index)
        num_classes = logits.shape[1]
        chunk = class_chunk or num_classes
        outs = []
        for start in range(0, num_classes, chunk):
            classes = torch.arange(start, min(start + chunk, num_classes),
                                   device=logits.device)

            def run(classes=classes):
                R = self.start(feat, pooled, logits, pool, weight, classes,
                               select)
                R = self.backward(tape, R, select, weights,
                                  checkpoint_records=use_checkpoint)
                return R.sum(2)  # (k, n, H, W)

            if use_checkpoint and torch.is_grad_enabled():
                outs.append(checkpoint(run, use_reentrant=False))
            else:
                outs.append(run())
        return torch.cat(outs, 0).transpose(0, 1)
