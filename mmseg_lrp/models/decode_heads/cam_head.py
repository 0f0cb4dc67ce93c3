"""Class activation maps of the LRP model's classifier: a reference."""
from typing import Optional

import torch.nn.functional as F
from torch import Tensor

from mmseg.registry import MODELS
from ..utils.heatmap_logits import heatmap_logits
from ..utils.lrp_features import LRPFeatures
from ..utils.present_classes import ABSENT
from .lrp_tied_head import LRPTiedHead


@MODELS.register_module()
class CAMHead(LRPTiedHead):
    """The classifier of :class:`LRPTiedHead` with class activation maps
    (CAM, Zhou et al. 2016) instead of LRP heatmaps as segmentation logits.

    CAM_k = ``conv_seg`` (the classifier row k, a 1x1 conv) applied to the
    encoder's last feature map, upsampled bilinearly to the input; its mean
    over the feature map is the class logit (global average pooling and
    the linear layer commute). Same classifier, same checkpoint keys, same
    losses, heatmap bias and present-class options as the LRP head: with the
    encoder and classifier frozen and only ``heatmap_bias`` fitted on the
    pixel labels it is the CAM reference of the toy experiment (what the
    classifier's own coarse maps give without LRP); trained end to end, the
    segmentation loss reaches the encoder through the maps as it does
    through the LRP decoder.

    Args:
        heatmap_scale: A positive factor on the maps (default 1: a map's
            mean is the logit, so ``'pixels'`` does not apply).
        **kwargs: :class:`LRPTiedHead` arguments, with a linear classifier
            on globally pooled features (``pool_size=1``, no
            ``fc_channels``) and the encoder's weights (``tie=True``).
    """

    def __init__(self, heatmap_scale: float = 1.0, **kwargs) -> None:
        if heatmap_scale == 'pixels':
            raise ValueError("CAMHead: heatmap_scale='pixels' does not "
                             'apply (a CAM has the scale of the logit)')
        for key, default in (('pool_size', 1), ('fc_channels', ()),
                             ('tie', True)):
            if key in kwargs and kwargs[key] != default and not (
                    key == 'fc_channels' and not kwargs[key]):
                raise ValueError(f'CAMHead needs {key}={default!r}, got '
                                 f'{kwargs[key]!r}')
        super().__init__(heatmap_scale=heatmap_scale, **kwargs)

    def decode(self, inputs: LRPFeatures,
               index: Optional[Tensor] = None,
               keep: Optional[Tensor] = None) -> Tensor:
        """CAMs ``(n, K, H, W)`` of the samples in ``index`` (all if None)
        at the input resolution; classes not in ``keep`` get ``ABSENT``."""
        tape = getattr(inputs, 'tape', None)
        if not tape:
            raise RuntimeError('CAMHead needs the tape of the encoder '
                               'forward pass (for the input size): use it '
                               'with LRPEncoderDecoder')
        size = next(tape.layers()).input.shape[-2:]
        feat = inputs[-1]
        if index is not None:
            feat = feat.index_select(0, index)
        cam = F.interpolate(self.conv_seg(feat), size=size, mode='bilinear',
                            align_corners=False)
        cam = heatmap_logits(cam, self.heatmap_scale, self.heatmap_bias)
        if keep is not None:
            cam = cam.masked_fill(~keep[:, :, None, None], ABSENT)
        return cam
