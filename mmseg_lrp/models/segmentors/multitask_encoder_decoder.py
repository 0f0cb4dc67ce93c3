"""Encoder-decoder with an image-level classifier among its auxiliary heads."""
from typing import List

import torch.nn as nn
from torch import Tensor

from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.utils import OptSampleList, SampleList
from ..decode_heads.image_cls_head import ImageClsHead
from ..utils import attach_img_logits, batch_img_metas


@MODELS.register_module()
class MultiTaskEncoderDecoder(EncoderDecoder):
    """mmseg's EncoderDecoder whose ``predict`` also returns the image-level
    logits of its :class:`ImageClsHead` auxiliary head.

    mmseg's ``predict`` drops auxiliary heads, so a multi-task segmentor
    (e.g. the multi-task UNet baseline) would report no classification
    result; with this class it gets the same ``pred_img_logits``
    (``LabelData``, the ``(K, )`` logits) as :class:`LRPEncoderDecoder`, and
    :class:`MultiLabelClsMetric` scores both classifiers alike. Training,
    losses, checkpoint keys and the segmentation output are mmseg's.

    In ``whole`` mode the classifier reads the same encoder pass as the
    decoder; in ``slide`` mode it takes one extra encoder pass over the
    whole (padded) input.

    Args:
        auxiliary_head: One head or a list; exactly one must be an
            :class:`ImageClsHead`.
        Others: as :class:`EncoderDecoder`.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        found = len(self._cls_heads())
        if found != 1:
            raise TypeError(
                'MultiTaskEncoderDecoder needs exactly one auxiliary_head of '
                f'type ImageClsHead, got {found}')

    def _cls_heads(self) -> List[ImageClsHead]:
        if not self.with_auxiliary_head:
            return []
        aux = self.auxiliary_head
        heads = list(aux) if isinstance(aux, nn.ModuleList) else [aux]
        return [h for h in heads if isinstance(h, ImageClsHead)]

    @property
    def cls_head(self) -> ImageClsHead:
        """The classifier (looked up, not stored: a second attribute would
        duplicate its weights under another checkpoint key)."""
        return self._cls_heads()[0]

    def predict(self,
                inputs: Tensor,
                data_samples: OptSampleList = None) -> SampleList:
        """mmseg's predict, plus ``pred_img_logits`` on every sample."""
        metas = batch_img_metas(inputs, data_samples)
        if self.test_cfg.get('mode', 'whole') == 'whole':
            feats = self.extract_feat(inputs)
            seg_logits = self.decode_head.predict(feats, metas,
                                                  self.test_cfg)
        else:
            seg_logits = self.inference(inputs, metas)
            feats = self.extract_feat(inputs)
        return attach_img_logits(
            self.postprocess_result(seg_logits, data_samples),
            self.cls_head.forward(feats))
