"""Where the losses of an unrolled-LRP model pull: per-layer gradient norms
of ``loss_seg`` and ``loss_cls`` on real training batches.

Guidance (the segmentation loss reshaping the classifier's heatmaps) needs
the segmentation loss to reach the tied encoder weights with a gradient
that is not negligible next to the classification loss's, and not spent
on the heatmap bias alone. :func:`loss_gradients` measures exactly that,
per parameter group, on batches of the config's own training loader.
"""
import re
from collections import OrderedDict
from typing import Dict, Iterable, List, Sequence, Tuple

import numpy as np
import torch
from torch import nn

# parameter groups: the first pattern that matches a name wins
DEFAULT_GROUPS = (
    ('heatmap_bias', r'decode_head\.heatmap_bias'),
    ('classifier', r'decode_head\.(conv_seg|mlp)\.'),
    ('stem', r'backbone\.(conv1|norm1|bn1|stem)\.'),
    ('stage 1', r'backbone\.(layer1|features\.[0-9]\.)'),
    ('stage 2', r'backbone\.layer2\.'),
    ('stage 3', r'backbone\.layer3\.'),
    ('stage 4', r'backbone\.layer4\.'),
    ('backbone, other', r'backbone\.'),
    ('other', r'.*'),
)


def group_of(name: str, groups: Sequence = DEFAULT_GROUPS) -> str:
    for group, pattern in groups:
        if re.match(pattern, name):
            return group
    return 'other'


def loss_gradients(model: nn.Module,
                   batches: Iterable[dict],
                   keys: Sequence[str] = ('loss_seg', 'loss_cls'),
                   groups: Sequence = DEFAULT_GROUPS
                   ) -> Dict[str, Dict[str, float]]:
    """Gradient norm of each loss term on each parameter group, summed in
    squares over the batches (the norm of the mean gradient would hide
    nothing the sum shows; both scale with the batch count alike).

    Args:
        model: The segmentor, in train mode.
        batches: Data batches as the train loader yields them.
        keys: Loss terms (the part of the key after the head prefix, e.g.
            ``loss_seg`` for ``decode.loss_seg``).
        groups: ``(group, regex)`` pairs, first match wins.

    Returns:
        ``{group: {key: norm, ..., 'cos': cosine between the first two
        keys' gradients}}`` with the groups in the order of ``groups``.
    """
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    params = [p for _, p in named]
    sq = OrderedDict((g, {k: 0.0 for k in keys}) for g, _ in groups)
    dots = OrderedDict((g, 0.0) for g, _ in groups)
    for data in batches:
        data = model.data_preprocessor(data, True)
        losses = model(**data, mode='loss')
        flat: List[List[torch.Tensor]] = []
        for k in keys:
            match = [v for name, v in losses.items()
                     if name.split('.')[-1] == k]
            if len(match) != 1:
                raise KeyError(f'loss {k!r}: found {len(match)} among '
                               f'{sorted(losses)}')
            grads = torch.autograd.grad(match[0], params, retain_graph=True,
                                        allow_unused=True)
            flat.append([torch.zeros_like(p) if g is None else g
                         for p, g in zip(params, grads)])
        for i, (name, _) in enumerate(named):
            g = group_of(name, groups)
            for k, gs in zip(keys, flat):
                sq[g][k] += float(gs[i].double().pow(2).sum())
            if len(keys) >= 2:
                dots[g] += float((flat[0][i].double() *
                                  flat[1][i].double()).sum())
    out = OrderedDict()
    for g, vals in sq.items():
        if not any(vals.values()) and g in ('other', 'backbone, other'):
            continue
        row = {k: v**0.5 for k, v in vals.items()}
        if len(keys) >= 2:
            den = row[keys[0]] * row[keys[1]]
            row['cos'] = dots[g] / den if den > 0 else float('nan')
        out[g] = row
    return out


def format_gradients(table: Dict[str, Dict[str, float]],
                     keys: Sequence[str] = ('loss_seg', 'loss_cls')) -> str:
    """A Markdown table of :func:`loss_gradients`' result."""
    head = ['parameters'] + [f'‖∇ {k}‖' for k in keys]
    if len(keys) >= 2:
        head += [f'{keys[0]} / {keys[1]}', 'cos']
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for g, row in table.items():
        cells = [g] + [f'{row[k]:.3g}' for k in keys]
        if len(keys) >= 2:
            b = row[keys[1]]
            cells += [f'{row[keys[0]] / b:.3g}' if b else '–',
                      f"{row['cos']:+.2f}"]
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


# -- ranking vs threshold -----------------------------------------------------
def _iou(pred: np.ndarray, gt: np.ndarray, valid: np.ndarray) -> float:
    pred, gt = pred & valid, gt & valid
    union = int((pred | gt).sum())
    return float((pred & gt).sum()) / union if union else 1.0


def _best_threshold(maps: Sequence[Tuple[np.ndarray, np.ndarray,
                                         np.ndarray]],
                    levels: int) -> float:
    """The threshold (among ``levels`` quantiles of the maps' valid values)
    with the best mean IoU over ``maps``."""
    values = np.concatenate([h[v] for h, _, v in maps])
    cands = np.unique(np.quantile(values, np.linspace(0, 1, levels)))
    scores = [np.mean([_iou(h > t, g, v) for h, g, v in maps])
              for t in cands]
    return float(cands[int(np.argmax(scores))])


def threshold_ious(pairs: Sequence[tuple],
                   levels: int = 101) -> Dict[str, float]:
    """How much of a model's segmentation error is the ranking inside its
    heatmaps, and how much the one threshold per class that turns them
    into masks.

    For every (image, present object class) pair, the IoU of the class's
    mask with (a) the model's own prediction, (b) the class's heatmap above
    the best threshold for that class over all images (what a fitted
    per-class bias can reach at best), (c) the heatmap above the best
    threshold for that image alone (an oracle: what the ranking inside the
    map allows). High AUROC with (c) far above (b): the maps rank well but
    their scale varies between images; (c) itself low: the maps' shape is
    the limit.

    Args:
        pairs: ``(class, heat (H, W), gt (H, W) bool, pred (H, W) bool,
            valid (H, W) bool)`` per image and present class.
        levels: Thresholds tried, as quantiles of the values.

    Returns:
        ``{'pairs': n, 'own': %, 'per_class': %, 'per_image': %}``, mean
        IoU in percent.
    """
    if not pairs:
        raise ValueError('threshold_ious: no (image, class) pair')
    own = [_iou(p, g, v) for _, _, g, p, v in pairs]
    per_class = []
    for k in sorted({p[0] for p in pairs}):
        maps = [(h, g, v) for c, h, g, _, v in pairs if c == k]
        t = _best_threshold(maps, levels)
        per_class += [_iou(h > t, g, v) for h, g, v in maps]
    per_image = [
        _iou(h > _best_threshold([(h, g, v)], levels), g, v)
        for _, h, g, _, v in pairs
    ]
    return dict(pairs=len(pairs), own=100 * float(np.mean(own)),
                per_class=100 * float(np.mean(per_class)),
                per_image=100 * float(np.mean(per_image)))


def heatmap_pairs(model: nn.Module, loader: Iterable[dict],
                  background: int = 0, ignore_index: int = 255
                  ) -> List[tuple]:
    """The ``pairs`` of :func:`threshold_ious` from a segmentor's
    predictions (its segmentation logits at the mask's resolution: for
    unrolled LRP the heatmaps plus the heatmap bias) on ``loader``."""
    pairs = []
    model.eval()
    with torch.no_grad():
        for data in loader:
            data = model.data_preprocessor(data, False)
            for out in model.predict(data['inputs'], data['data_samples']):
                logits = out.seg_logits.data.float()
                gt = out.gt_sem_seg.data[0]
                pred = logits.argmax(0)
                valid = (gt != ignore_index).numpy()
                for k in torch.unique(gt[gt != ignore_index]).tolist():
                    if k != background:
                        pairs.append((k, logits[k].numpy(),
                                      (gt == k).numpy(), (pred == k).numpy(),
                                      valid))
    return pairs
