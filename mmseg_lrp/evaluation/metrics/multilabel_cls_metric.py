"""Multi-label classification metric for the classifier of the LRP model."""
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.evaluator import BaseMetric
from mmpretrain.evaluation import AveragePrecision, MultiLabelMetric
from mmseg.registry import METRICS


@METRICS.register_module()
class MultiLabelClsMetric(BaseMetric):
    """mAP and F1 of the image-level classifier, so users see the classifier
    is preserved while the model learns to segment.

    Reads ``pred_img_logits`` (from ``LRPEncoderDecoder.predict``) and
    ``gt_img_labels`` (from ``PackSemiSegInputs``) of every sample;
    samples without labels (an all-ignore mask) are skipped. The scores are
    sigmoids of the logits. Per-class AP, precision, recall and F1 come from
    mmpretrain's :class:`AveragePrecision` and :class:`MultiLabelMetric`;
    the averages are over classes with at least one positive image (a class
    absent from the evaluated set has no defined AP). Background is left out
    by default, as in VOC classification.

    Args:
        thr: Score threshold for precision/recall/F1.
        ignore_background: Leave the background class out.
        background_index: Its index.
        collect_device: As :class:`BaseMetric`.
        prefix: Key prefix; default ``cls`` (``cls/mAP``, ``cls/F1``, ...).
    """
    default_prefix = 'cls'

    def __init__(self,
                 thr: float = 0.5,
                 ignore_background: bool = True,
                 background_index: int = 0,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.thr = thr
        self.ignore_background = ignore_background
        self.background_index = background_index

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        for ds in data_samples:
            if 'pred_img_logits' not in ds:
                raise KeyError(
                    'MultiLabelClsMetric needs pred_img_logits in the '
                    'predictions (LRPEncoderDecoder, or a model with a '
                    'classification head); remove it from the evaluator for '
                    'segmentation-only models')
            if 'gt_img_labels' not in ds:
                continue
            self.results.append(
                (ds['pred_img_logits']['data'].detach().float().cpu(),
                 ds['gt_img_labels']['data'].float().cpu()))

    def compute_metrics(self, results: List) -> Dict[str, float]:
        if not results:
            raise ValueError('MultiLabelClsMetric: no sample with image '
                             'labels (gt_img_labels); use PackSemiSegInputs '
                             'in the evaluation pipeline')
        pred = torch.stack([r[0] for r in results]).sigmoid()
        target = torch.stack([r[1] for r in results]).long()
        if pred.shape != target.shape:
            raise ValueError(f'logits {tuple(pred.shape)} and labels '
                             f'{tuple(target.shape)} differ in shape')
        keep = torch.ones(pred.shape[1], dtype=torch.bool)
        if self.ignore_background:
            keep[self.background_index] = False
        keep &= target.sum(0) > 0
        if not keep.any():
            raise ValueError('MultiLabelClsMetric: no class with a positive '
                             'image in the evaluated set')
        pred, target = pred[:, keep], target[:, keep]
        ap = AveragePrecision.calculate(pred, target, average=None)
        precision, recall, f1, _ = MultiLabelMetric.calculate(
            pred, target, average=None, thr=self.thr)
        return dict(
            mAP=ap.mean().item(),
            precision=precision.mean().item(),
            recall=recall.mean().item(),
            F1=f1.mean().item(),
            num_classes=float(keep.sum()))
