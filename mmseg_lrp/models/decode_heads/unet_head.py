"""UNet decoder over the stages of a classification backbone."""
from typing import List, Sequence

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from torch import Tensor

from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.utils import resize
from mmseg.registry import MODELS


@MODELS.register_module()
class UNetHead(BaseDecodeHead):
    """The decoder of a UNet whose encoder is a classification backbone
    (e.g. ``mmpretrain.ResNet`` with ``out_indices=(0, 1, 2, 3)``).

    mmseg's ``UNet`` is a backbone with its own encoder; this head turns any
    multi-stage backbone into the encoder of a UNet, as the "UNet with a
    ResNet-50 encoder" baseline of the unrolled-LRP paper. From the deepest
    feature up, every decoder stage upsamples its input (bilinear) to the
    next shallower feature's size, concatenates that feature (the skip
    connection) and applies ``num_convs`` 3x3 ConvModules. Stages beyond
    the shallowest feature upsample by 2 without a skip, so the decoder can
    reach the input resolution (ResNet's shallowest stage is at 1/4).
    ``conv_seg`` maps the last stage to the class logits.

    Args:
        in_channels: Channels of the selected features, shallow to deep.
        dec_channels: Output channels of the decoder stages, deepest first.
            The first ``len(in_channels) - 1`` stages take skips; the rest
            upsample without. ``channels`` is set to the last entry.
        num_convs: 3x3 convs per decoder stage.
        in_index: Features to use (default: all four ResNet stages).
        **kwargs: Other :class:`BaseDecodeHead` arguments (``norm_cfg``,
            ``act_cfg``, ``dropout_ratio``, ``loss_decode``, ...).
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 dec_channels: Sequence[int] = (256, 128, 64, 32, 16),
                 num_convs: int = 2,
                 in_index: Sequence[int] = (0, 1, 2, 3),
                 **kwargs) -> None:
        if 'channels' in kwargs or 'input_transform' in kwargs:
            raise ValueError('UNetHead sets channels (the last of '
                             'dec_channels) and input_transform itself')
        in_channels = list(in_channels)
        dec_channels = list(dec_channels)
        if len(in_channels) < 2 or len(in_channels) != len(in_index):
            raise ValueError(
                f'UNetHead needs two or more features and one in_index per '
                f'in_channels entry, got in_channels={in_channels}, '
                f'in_index={list(in_index)}')
        if len(dec_channels) < len(in_channels) - 1:
            raise ValueError(
                f'dec_channels={dec_channels} has fewer than '
                f'len(in_channels) - 1 = {len(in_channels) - 1} stages')
        if num_convs < 1:
            raise ValueError(f'num_convs must be >= 1, got {num_convs}')
        super().__init__(
            in_channels=in_channels,
            channels=dec_channels[-1],
            in_index=list(in_index),
            input_transform='multiple_select',
            **kwargs)
        skips = in_channels[-2::-1]  # shallower features, deepest first
        prev = in_channels[-1]
        self.stages = nn.ModuleList()
        for i, out in enumerate(dec_channels):
            cin = prev + (skips[i] if i < len(skips) else 0)
            convs = []
            for j in range(num_convs):
                convs.append(ConvModule(
                    cin if j == 0 else out, out, 3, padding=1,
                    conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg,
                    act_cfg=self.act_cfg))
            self.stages.append(nn.Sequential(*convs))
            prev = out
        self.num_skips = len(skips)

    def forward(self, inputs: List[Tensor]) -> Tensor:
        """Logits at the resolution of the last decoder stage."""
        feats = self._transform_inputs(inputs)
        x = feats[-1]
        skips = feats[-2::-1]
        for i, stage in enumerate(self.stages):
            if i < self.num_skips:
                x = resize(x, size=skips[i].shape[2:], mode='bilinear',
                           align_corners=self.align_corners)
                x = torch.cat([x, skips[i]], dim=1)
            else:
                x = resize(x, scale_factor=2, mode='bilinear',
                           align_corners=self.align_corners)
            x = stage(x)
        return self.cls_seg(x)
