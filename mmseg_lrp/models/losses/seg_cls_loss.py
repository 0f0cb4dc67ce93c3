"""Segmentation cross-entropy on heatmaps plus multi-label classification."""
from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmseg.registry import MODELS


@MODELS.register_module()
class SegClsLoss(nn.Module):
    """The loss of the unrolled-LRP model (Yu et al., 2024).

    - ``loss_seg``: softmax cross-entropy over the K heatmaps, mean over the
      labelled pixels (``ignore_index`` excluded); with ``class_weight``,
      each pixel weighted by its class and the sum divided by the summed
      weights (as ``F.cross_entropy``). Exactly 0, and still connected to
      the graph (DDP-safe), when no pixel is labelled.
    - ``loss_cls``: multi-label soft-margin loss (= mean of per-class binary
      cross-entropy with logits) over the K classifier logits, the
      background class weighted by ``background_weight`` (0: the classifier
      is not asked whether an image has background), averaged over the
      samples that carry image-level labels.

    Args:
        seg_weight: Weight of ``loss_seg``.
        cls_weight: Weight of ``loss_cls``.
        ignore_index: Label of unlabelled pixels.
        background_weight: Weight of class 0 in ``loss_cls``.
        class_weight: Per-class weights of ``loss_seg`` (K values, e.g. a
            background weight below 1 where background fills 90 % of the
            labelled pixels), or None for the plain mean.
    """

    def __init__(self,
                 seg_weight: float = 1.0,
                 cls_weight: float = 1.0,
                 ignore_index: int = 255,
                 background_weight: float = 0.0,
                 class_weight: Optional[Sequence[float]] = None) -> None:
        super().__init__()
        if class_weight is not None:
            class_weight = [float(w) for w in class_weight]
            # a zero weight would make a batch whose labelled pixels all
            # carry it a 0/0 (NaN) loss; ignore_index is the way to drop one
            if not class_weight or min(class_weight) <= 0:
                raise ValueError('SegClsLoss: class_weight must be positive, '
                                 f'got {class_weight}')
        self.class_weight = class_weight
        self.seg_weight = seg_weight
        self.cls_weight = cls_weight
        self.ignore_index = ignore_index
        self.background_weight = background_weight

    def forward(self,
                cls_logits: Tensor,
                cls_label: Tensor,
                seg_logits: Optional[Tensor] = None,
                seg_label: Optional[Tensor] = None,
                cls_valid: Optional[Tensor] = None) -> dict:
        """Compute both terms.

        Args:
            cls_logits: ``(N, K)`` classifier logits.
            cls_label: ``(N, K)`` multi-hot image labels.
            seg_logits: ``(n, K, H, W)`` heatmaps of the decoded samples, or
                None if none was decoded.
            seg_label: ``(n, H, W)`` their pixel labels.
            cls_valid: ``(N, )`` bool, samples whose image labels are known
                (default: all).

        Returns:
            dict: ``loss_seg`` and ``loss_cls`` (weighted).
        """
        num_classes = cls_logits.shape[1]
        if self.class_weight is not None and \
                len(self.class_weight) != num_classes:
            raise ValueError(
                f'SegClsLoss: class_weight has {len(self.class_weight)} '
                f'values but the model has {num_classes} classes')
        zero = cls_logits.sum() * 0
        if seg_logits is None or not (seg_label != self.ignore_index).any():
            loss_seg = zero if seg_logits is None else seg_logits.sum() * 0
        else:
            weight = None
            if self.class_weight is not None:
                weight = torch.tensor(self.class_weight,
                                      dtype=seg_logits.dtype,
                                      device=seg_logits.device)
            loss_seg = F.cross_entropy(
                seg_logits, seg_label.long(), weight=weight,
                ignore_index=self.ignore_index)
        weight = cls_logits.new_ones(num_classes)
        weight[0] = self.background_weight
        bce = F.binary_cross_entropy_with_logits(
            cls_logits, cls_label.to(cls_logits.dtype), reduction='none')
        per_sample = (bce * weight).mean(1)
        if cls_valid is not None:
            per_sample = per_sample[cls_valid]
        loss_cls = per_sample.mean() if per_sample.numel() else zero
        return dict(loss_seg=self.seg_weight * loss_seg,
                    loss_cls=self.cls_weight * loss_cls)
