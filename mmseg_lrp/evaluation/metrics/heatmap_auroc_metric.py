"""How well each class's segmentation logit map separates its own pixels
from the background: the measure of guidance (it must rise in training)."""
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmseg.registry import METRICS
from torch import Tensor


def auroc(pos: Tensor, neg: Tensor) -> float:
    """Area under the ROC curve of scores ``pos`` (positives) against ``neg``
    (negatives), ties counted half (the Mann-Whitney U statistic / n+ n-).

    Args:
        pos: 1-D scores of the positives.
        neg: 1-D scores of the negatives.

    Returns:
        The AUROC in [0, 1]; 0.5 is chance.
    """
    if pos.numel() == 0 or neg.numel() == 0:
        raise ValueError('AUROC needs at least one positive and one negative')
    scores = torch.cat([pos, neg]).double()
    # average ranks (1-based) with ties sharing their mean rank
    uniq, inverse, counts = torch.unique(scores, return_inverse=True,
                                         return_counts=True)
    ends = torch.cumsum(counts, 0).double()
    mean_rank = ends - (counts.double() - 1) / 2
    ranks = mean_rank[inverse]
    n_pos, n_neg = pos.numel(), neg.numel()
    u = ranks[:n_pos].sum() - n_pos * (n_pos + 1) / 2
    return float(u / (n_pos * n_neg))


@METRICS.register_module()
class HeatmapAUROCMetric(BaseMetric):
    """Per-class AUROC of the segmentation logit maps: for every image and
    every foreground class in its mask, how well the class's logit map
    (for the LRP model: its heatmap) ranks the class's own pixels above the
    image's background pixels. Per image, so it measures where a map puts
    its mass, not its scale or offset (a per-class bias or a per-image
    logit changes nothing); averaged over (image, class) pairs and per
    class.

    Guidance of the classifier by the segmentation loss shows as this
    number rising during stage 2; a model that only learns a threshold on
    fixed maps (the bias-only reference) leaves it where it was.

    ``objects``: the same AUROC with the pixels of the image's *other*
    foreground classes as negatives (images with two classes or more):
    whether a class's map tells its object from the other objects, which
    the background AUROC does not see (a class-agnostic saliency map
    scores high there and 50 here).

    Reads ``seg_logits`` (``(K, H, W)``, as mmseg's ``predict`` leaves them)
    and ``gt_sem_seg``; pixels at ``ignore_index`` and other classes'
    pixels are left out.

    Args:
        ignore_index: The void label.
        background_index: The background class.
        collect_device: As :class:`BaseMetric`.
        prefix: Key prefix; default ``auroc`` (``auroc/mean``,
            ``auroc/<class>``).
    """
    default_prefix = 'auroc'

    def __init__(self,
                 ignore_index: int = 255,
                 background_index: int = 0,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.ignore_index = ignore_index
        self.background_index = background_index

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if 'seg_logits' not in sample:
                raise KeyError('HeatmapAUROCMetric needs seg_logits in the '
                               'predictions (mmseg segmentors leave them)')
            logits = sample['seg_logits']['data'].float().cpu()
            label = sample['gt_sem_seg']['data'].squeeze(0).cpu()
            if logits.shape[-2:] != label.shape:
                raise ValueError(f'seg_logits {tuple(logits.shape[-2:])} and '
                                 f'gt_sem_seg {tuple(label.shape)} differ in '
                                 'size')
            background = label == self.background_index
            if not bool(background.any()):
                continue
            fg = [k for k in label.unique().tolist()
                  if k not in (self.ignore_index, self.background_index)]
            for k in fg:
                if k >= logits.shape[0]:
                    raise ValueError(f'label {k} in gt_sem_seg, but only '
                                     f'{logits.shape[0]} classes')
                own = label == k
                vs_objects = None
                if len(fg) > 1:
                    others = (label != k) & (label != self.ignore_index) & \
                        ~background
                    vs_objects = auroc(logits[k][own], logits[k][others])
                self.results.append(
                    (k, auroc(logits[k][own], logits[k][background]),
                     vs_objects))

    def compute_metrics(self, results: List[tuple]) -> Dict[str, float]:
        if not results:
            return dict(mean=float('nan'))
        classes = self.dataset_meta.get('classes') if self.dataset_meta \
            else None
        per_class: Dict[int, list] = {}
        for k, a, _ in results:
            per_class.setdefault(k, []).append(a)
        metrics = dict(mean=100 * float(np.mean([a for _, a, _ in results])))
        objects = [o for _, _, o in results if o is not None]
        if objects:
            metrics['objects'] = 100 * float(np.mean(objects))
        for k, vals in sorted(per_class.items()):
            name = classes[k] if classes and k < len(classes) else str(k)
            metrics[name] = 100 * float(np.mean(vals))
        return metrics
