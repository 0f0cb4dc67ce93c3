"""Multi-label image classifier as an auxiliary head of a segmentor."""
from typing import List

import torch.nn as nn
from torch import Tensor

from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, SampleList
from ..utils.image_labels import batch_image_labels


@MODELS.register_module()
class ImageClsHead(BaseDecodeHead):
    """Global average pooling + a linear layer over K classes, trained with
    the image-level labels: the classification branch of a multi-task
    segmentor (e.g. the multi-task UNet baseline, as ``auxiliary_head`` of
    mmseg's ``EncoderDecoder``).

    It computes the same classifier and the same classification loss as
    :class:`LRPTiedHead` (the linear layer is ``conv_seg``, a 1x1 conv on the
    pooled feature; :class:`SegClsLoss`'s ``loss_cls``, background weight 0
    by default) but produces no segmentation. Labels come from
    ``gt_img_labels`` where a sample has them, else from its mask
    (:func:`batch_image_labels`); a sample with neither is left out.

    Args:
        in_channels: Channels of the selected feature (default the last).
        num_classes: K, background included.
        loss_decode: A loss with :class:`SegClsLoss`'s call signature;
            only its ``loss_cls`` is kept.
        **kwargs: Other :class:`BaseDecodeHead` arguments.
    """

    def __init__(self,
                 in_channels: int,
                 num_classes: int,
                 loss_decode: ConfigType = dict(
                     type='SegClsLoss', seg_weight=0.0, cls_weight=1.0),
                 **kwargs) -> None:
        if 'channels' in kwargs:
            raise ValueError('ImageClsHead: channels is in_channels')
        kwargs.setdefault('in_index', -1)
        super().__init__(
            in_channels=in_channels,
            channels=in_channels,
            num_classes=num_classes,
            loss_decode=loss_decode,
            **kwargs)
        self.pool = nn.AdaptiveAvgPool2d(1)

    def forward(self, inputs: List[Tensor]) -> Tensor:
        """Image-level logits ``(N, K)``."""
        x = self._transform_inputs(inputs)
        return self.cls_seg(self.pool(x)).flatten(1)

    def loss(self, inputs: List[Tensor], batch_data_samples: SampleList,
             train_cfg: ConfigType) -> dict:
        """``loss_cls`` over the samples with known image labels."""
        logits = self.forward(inputs)
        labels, valid = batch_image_labels(batch_data_samples,
                                           self.num_classes,
                                           self.ignore_index)
        losses = self.loss_decode(logits, labels, cls_valid=valid)
        return dict(loss_cls=losses['loss_cls'])

    def predict(self, inputs: List[Tensor], batch_img_metas: List[dict],
                test_cfg: ConfigType) -> Tensor:
        """Image-level logits ``(N, K)`` (no segmentation)."""
        return self.forward(inputs)
