"""Present-class decoding: the heatmaps of some classes per sample only.

The LRP decoder's cost grows with the number of decoded classes; decoding
background plus the classes a sample shows (training: its mask's; inference:
the classifier's) and giving the others the logit :data:`ABSENT` cuts it.
"""
from typing import Optional, Tuple

import torch
from torch import Tensor

# Logit of the classes that present-class decoding leaves out: finite, so
# that resizing (0 x value) stays finite; far below any heatmap.
ABSENT = -1e9


class PresentClassesMixin:
    """Which classes :class:`LRPTiedHead` decodes (None: all K).

    Attributes (set by :meth:`init_present_classes`):
        test_class_threshold: Inference decodes class 0 (background) and
            the classes with ``sigmoid(z_k)`` above this, in (0, 1).
        test_class_topk: Inference decodes class 0 and the ``k``
            highest-scoring other classes.
        train_absent_topk: Training decodes, per pixel-labelled sample,
            class 0, the classes of its mask and the ``k`` highest-scoring
            absent ones; the cross-entropy runs over those.
    """

    ignore_index: int

    def init_present_classes(self, num_classes: int,
                             test_class_threshold: Optional[float],
                             test_class_topk: Optional[int],
                             train_absent_topk: Optional[int]) -> None:
        """Check and keep the options (see the class attributes)."""
        if test_class_threshold is not None and test_class_topk is not None:
            raise ValueError('set test_class_threshold or test_class_topk, '
                             'not both')
        if test_class_threshold is not None and not (
                0 < test_class_threshold < 1):
            raise ValueError('test_class_threshold must be in (0, 1), got '
                             f'{test_class_threshold}')
        for name, k in (('test_class_topk', test_class_topk),
                        ('train_absent_topk', train_absent_topk)):
            if k is not None and not 0 <= k < num_classes:
                raise ValueError(f'{name} must be in [0, {num_classes - 1}]'
                                 f', got {k}')
        self.test_class_threshold = test_class_threshold
        self.test_class_topk = test_class_topk
        self.train_absent_topk = train_absent_topk

    def test_classes(self, logits: Tensor) -> Optional[Tensor]:
        """The classes present-class inference decodes.

        Args:
            logits: ``(N, K)`` classifier logits.

        Returns:
            ``(N, K)`` bool: class 0 and those the classifier finds; None:
            all (neither option set).
        """
        if self.test_class_threshold is None and self.test_class_topk is None:
            return None
        keep = torch.zeros_like(logits, dtype=torch.bool)
        keep[:, 0] = True
        if self.test_class_threshold is not None:
            keep[:, 1:] |= logits[:, 1:].sigmoid() > self.test_class_threshold
        elif self.test_class_topk:
            top = logits[:, 1:].topk(self.test_class_topk, dim=1).indices
            keep.scatter_(1, top + 1, True)
        return keep

    def train_classes(self, logits: Tensor,
                      seg_label: Tensor) -> Optional[Tensor]:
        """The classes present-class training decodes.

        Args:
            logits: ``(n, K)`` classifier logits of the pixel-labelled
                samples.
            seg_label: ``(n, H, W)`` their masks.

        Returns:
            ``(n, K)`` bool: class 0, the classes of each mask, and the
            ``train_absent_topk`` highest-scoring absent ones; None: all.
        """
        if self.train_absent_topk is None:
            return None
        keep = torch.zeros_like(logits, dtype=torch.bool)
        keep[:, 0] = True
        lab = seg_label.flatten(1)
        keep.scatter_(1, lab.masked_fill(lab == self.ignore_index, 0).long(),
                      True)
        if self.train_absent_topk:
            score = logits.masked_fill(keep, float('-inf'))
            top = score.topk(self.train_absent_topk, dim=1)
            # entries at -inf are kept classes (fewer absent than k)
            keep |= torch.zeros_like(keep).scatter_(
                1, top.indices, top.values > float('-inf'))
        return keep


def kept_classes(keep: Tensor) -> Tuple[Tensor, Tensor]:
    """The decoded classes of each sample as indices, rows padded to one
    length (the propagator decodes ``(n, k)`` classes).

    Args:
        keep: ``(n, K)`` bool, at least one True per row.

    Returns:
        tuple: ``(n, k)`` class indices (k = most kept in a row; shorter
        rows padded with their first kept class) and ``(n, k)`` bool,
        False on the padding.
    """
    counts = keep.sum(1)
    if not bool((counts > 0).all()):
        raise ValueError('every decoded sample needs at least one class')
    k = int(counts.max())
    order = torch.sort((~keep).to(torch.uint8), dim=1, stable=True).indices
    real = torch.arange(k, device=keep.device) < counts[:, None]
    return torch.where(real, order[:, :k], order[:, :1]), real


def fill_absent(heat: Tensor, classes: Tensor, real: Tensor,
                num_classes: int) -> Tensor:
    """All K logit maps from the decoded ones, :data:`ABSENT` elsewhere.

    Args:
        heat: ``(n, k, H, W)`` maps of ``classes``.
        classes: ``(n, k)`` class indices (:func:`kept_classes`).
        real: ``(n, k)`` bool, False on the padding columns.
        num_classes: K.

    Returns:
        ``(n, K, H, W)``.
    """
    # padding columns repeat a decoded class: detached, so that its
    # gradient is counted once
    heat = torch.where(real[..., None, None], heat, heat.detach())
    full = heat.new_full((heat.shape[0], num_classes) + heat.shape[2:],
                         ABSENT)
    return full.scatter(
        1, classes[..., None, None].expand(-1, -1, *heat.shape[2:]), heat)
