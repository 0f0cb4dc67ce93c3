"""Encoder-decoder whose decoder is the encoder's unrolled LRP pass."""
from typing import Optional

from mmengine.logging import MMLogger
from torch import Tensor

from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, OptConfigType, OptSampleList, SampleList
from mmseg_lrp.lrp import TapeRecorder, check_encoder
from ..decode_heads.lrp_tied_head import LRPFeatures, LRPTiedHead
from ..utils import attach_img_logits, batch_img_metas


UNTIED = 'decode_head.untied.'


def _untied_after_load(model: 'LRPEncoderDecoder', incompatible) -> None:
    """After a checkpoint without the untied decoder's weights (e.g. the
    stage-1 classifier, loaded by ``load_from`` after ``init_weights``):
    ``tie=False`` copies them from the encoder just loaded; ``'original'``
    keeps them as initialised, as the original code did."""
    missing = [k for k in incompatible.missing_keys if UNTIED in k]
    if not missing:
        return
    head = model.decode_head
    logger = MMLogger.get_current_instance()
    if head.tie is False:
        head.copy_untied_from(model.backbone,
                              [k.split(UNTIED, 1)[1] for k in missing])
        for k in missing:
            incompatible.missing_keys.remove(k)
        logger.info(f'{len(missing)} untied decoder weights copied from the '
                    'loaded encoder (the checkpoint has none)')
    else:
        logger.info(f"tie='original': {len(missing)} untied decoder weights "
                    'are not in the checkpoint and keep the values they '
                    "got at initialisation (the encoder's pretrained or "
                    "initial weights, the classifier's initial ones), as in "
                    'the original code')


@MODELS.register_module()
class LRPEncoderDecoder(EncoderDecoder):
    """mmseg's EncoderDecoder with an LRP-unrolled tied decoder.

    ``extract_feat`` differs: the backbone runs under a
    :class:`TapeRecorder` for that one call, and the features are returned
    as :class:`LRPFeatures` carrying the tape, which :class:`LRPTiedHead`
    walks backwards with the encoder's own weights. ``predict`` also returns
    the classifier's image-level logits (``pred_img_logits``, for the
    multi-label metric). Everything else (loss, whole/slide inference,
    ``mode='tensor'``, auxiliary heads, checkpoint keys
    ``backbone.*``/``decode_head.*``) is mmseg's.

    Args:
        backbone: ``mmpretrain.VGG`` (num_classes=-1) or
            ``mmpretrain.ResNet``; pretrained weights via its ``init_cfg``.
        decode_head: An :class:`LRPTiedHead` config.
        inplace_act: ``'error'`` (default) or ``'disable'``: what to do with
            in-place activations in the backbone (see
            :func:`mmseg_lrp.lrp.check_encoder`).
        neck: Not supported (must be None).
        pretrained: Not supported (use the backbone's ``init_cfg``).
        **kwargs: ``auxiliary_head``, ``train_cfg``, ``test_cfg``,
            ``data_preprocessor``, ``init_cfg`` as :class:`EncoderDecoder`.
    """

    def __init__(self,
                 backbone: ConfigType,
                 decode_head: ConfigType,
                 neck: OptConfigType = None,
                 pretrained: Optional[str] = None,
                 inplace_act: str = 'error',
                 **kwargs) -> None:
        if neck is not None:
            raise ValueError('LRPEncoderDecoder does not support a neck: the '
                             'LRP decoder unrolls the backbone alone')
        if pretrained is not None:
            raise ValueError(
                'LRPEncoderDecoder: use backbone.init_cfg=dict(type='
                "'Pretrained', checkpoint=...) instead of pretrained "
                '(mmpretrain backbones do not take it)')
        # auxiliary_head, train_cfg, test_cfg, data_preprocessor, init_cfg
        super().__init__(backbone=backbone, decode_head=decode_head, **kwargs)
        if not isinstance(self.decode_head, LRPTiedHead):
            raise TypeError('LRPEncoderDecoder needs decode_head of type '
                            f'LRPTiedHead, got {type(self.decode_head)}')
        check_encoder(self.backbone, inplace_act)
        self.decode_head.check_rules(self.backbone)
        if self.decode_head.tie is not True:
            self.decode_head.build_untied(self.backbone)
            self.register_load_state_dict_post_hook(_untied_after_load)

    def init_weights(self) -> None:
        super().init_weights()
        if self.decode_head.tie is not True:
            # the untied decoder starts from the (possibly pretrained) encoder
            self.decode_head.copy_untied_from(self.backbone)

    def extract_feat(self, inputs: Tensor) -> LRPFeatures:
        """Backbone features plus the tape of this forward call."""
        with TapeRecorder(self.backbone) as rec:
            feats = self.backbone(inputs)
        return LRPFeatures(feats, rec.tape)

    def predict(self,
                inputs: Tensor,
                data_samples: OptSampleList = None) -> SampleList:
        """mmseg's predict, plus ``pred_img_logits`` (``LabelData``, the
        ``(K, )`` classifier logits of the whole image) on every sample.

        In ``whole`` mode the classifier logits come from the same encoder
        pass as the heatmaps; in ``slide`` mode from one extra encoder pass
        over the whole (padded) input.
        """
        metas = batch_img_metas(inputs, data_samples)
        head = self.decode_head
        if self.test_cfg.get('mode', 'whole') == 'whole':
            feats = self.extract_feat(inputs)
            logits = head.classify(feats)
            seg_logits = head.predict_by_feat(head(feats), metas)
        else:
            seg_logits = self.inference(inputs, metas)
            logits = head.classify(self.backbone(inputs))
        return attach_img_logits(
            self.postprocess_result(seg_logits, data_samples), logits)
