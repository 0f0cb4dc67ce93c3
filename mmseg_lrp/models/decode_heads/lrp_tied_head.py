"""The LRP-unrolled tied decode head."""
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from torch import Tensor

from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.losses import accuracy
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, SampleList
from mmseg_lrp.lrp import LRPPropagator, select_rows
from mmseg_lrp.lrp.compat import rerun_residual_batch_norms
from ..utils.ddp_padding import idle_rank_loss
from ..utils.heatmap_logits import check_heatmap_options, heatmap_logits
from ..utils.image_labels import batch_image_labels, pixel_labelled_index
from ..utils.lrp_classifier import (LRPClassifierMixin, build_mlp,
                                    check_head_kwargs)
from ..utils.lrp_features import LRPFeatures
from ..utils.present_classes import (  # noqa: F401 (ABSENT: re-exported)
    ABSENT, PresentClassesMixin, fill_absent, kept_classes)
from ..utils.untied_decoder import UntiedDecoderMixin, check_tie


@MODELS.register_module()
class LRPTiedHead(LRPClassifierMixin, UntiedDecoderMixin, PresentClassesMixin,
                  BaseDecodeHead):
    """Classifier + its unrolled LRP backward pass as the segmentation head.

    The classifier is global average pooling + a linear layer over K classes
    (background included), stored as ``conv_seg`` (a 1x1 conv on the pooled
    features) so checkpoints keep mmseg's keys; with ``pool_size`` /
    ``fc_channels`` it is torchvision's VGG classifier (adaptive pooling,
    linear + ReLU + dropout layers ``mlp``, ``conv_seg``). For each class k
    the relevance ``z_k e_k`` at the logits is propagated back through the
    encoder (the tape recorded by :class:`LRPEncoderDecoder`); the heatmaps
    at the input resolution, one per class, are the segmentation logits.

    Args:
        in_channels: Channels of the encoder's last output, a ``(N, C, H,
            W)`` map or a ``(N, C)`` vector (e.g. a class token).
        num_classes: K, background included.
        epsilon: Stabilizer of the divisions (1e-8: effectively LRP-0).
        stabilizer: ``'cutoff'`` (default): units with ``|z| <= epsilon``
            pass no relevance; ``'sign'``: ``z + epsilon * sign(z)``, the
            textbook LRP-epsilon; ``'shift'``: ``z + epsilon``, the original
            code's (see :func:`mmseg_lrp.lrp.functional.divide`).
        conv_rules: Rules for layer groups by name, first match wins, e.g.
            ``[dict(layers='*', type='zplus')]`` (see
            :class:`mmseg_lrp.lrp.RuleMap`; default: each type's own rule).
        class_chunk: Decode this many classes at a time (default: all K).
        use_checkpoint: Memory-bounded exact mode: each class chunk is
            recomputed in the backward pass (one backward, DDP-safe).
        tie: True (default): the decoder uses the encoder's weights; False:
            own copies of every weighted layer (ablation); ``'original'``:
            the original code's, own copies of the conv and linear layers
            from initialisation (``models/utils/untied_decoder.py``).
        pool_size: Output size of the classifier's adaptive average pooling
            (1: global average pooling; 7: torchvision's VGG).
        fc_channels: Widths of the hidden linear layers between the pooling
            and ``conv_seg``, e.g. ``(4096, 4096)`` for VGG's fc6, fc7.
        fc_dropout: Dropout after each hidden layer's ReLU.
        fc_init_cfg: ``init_cfg`` of ``mlp``, e.g. ``dict(type='Pretrained',
            checkpoint=<mmpretrain VGG>, prefix='backbone.classifier.')``.
        heatmap_scale: Factor on the heatmaps as logits, the segmentation
            loss's softmax temperature: 1.0 (default, the paper's),
            ``'pixels'`` (times the pixel count, so that training from
            scratch does not stall; ``models/utils/heatmap_logits.py``) or
            any positive float.
        heatmap_bias: Add a learnt per-class offset to the heatmaps.
        frozen: The no-guidance reference: no gradient for the classifier,
            no autograd through the decoder; the segmentation loss fits
            ``heatmap_bias`` (needed) alone. Freeze the backbone too.
        test_class_threshold: Present-class inference: decode background
            and the classes with ``sigmoid(z_k)`` above this; the others get
            the logit ``ABSENT`` (-1e9). Default None: all K (exact).
        test_class_topk: Present-class inference by rank: background and
            the ``k`` highest-scoring other classes.
        train_absent_topk: Present-class training: background, the mask's
            classes and the ``k`` highest-scoring absent ones (default: all).
        decoder_bn_passes: Paper-compat: in training, update the running
            statistics of the batch norms ending the residual branches as
            this many extra calls per step would (default 0; see
            :func:`mmseg_lrp.lrp.compat.rerun_residual_batch_norms`).
        loss_decode: The loss (default :class:`SegClsLoss`).
        **kwargs: Other :class:`BaseDecodeHead` arguments.
    """

    def __init__(self,
                 in_channels: int,
                 num_classes: int,
                 epsilon: float = 1e-8,
                 stabilizer: str = 'cutoff',
                 conv_rules: Sequence[dict] = (),
                 class_chunk: Optional[int] = None,
                 use_checkpoint: bool = False,
                 tie: Union[bool, str] = True,
                 pool_size: int = 1,
                 fc_channels: Sequence[int] = (),
                 fc_dropout: float = 0.5,
                 fc_init_cfg: Optional[dict] = None,
                 heatmap_scale: Union[float, str] = 1.0,
                 heatmap_bias: bool = False,
                 frozen: bool = False,
                 test_class_threshold: Optional[float] = None,
                 test_class_topk: Optional[int] = None,
                 train_absent_topk: Optional[int] = None,
                 decoder_bn_passes: int = 0,
                 loss_decode: ConfigType = dict(type='SegClsLoss'),
                 **kwargs) -> None:
        check_head_kwargs(kwargs)  # dropout_ratio=0, the last output
        check_tie(tie)
        mlp, width = build_mlp(in_channels, pool_size, fc_channels,
                               fc_dropout, fc_init_cfg)
        super().__init__(in_channels=in_channels, channels=width,
                         num_classes=num_classes, out_channels=num_classes,
                         loss_decode=loss_decode, **kwargs)
        if class_chunk is not None and not 0 < class_chunk:
            raise ValueError(f'class_chunk must be > 0, got {class_chunk}')
        check_heatmap_options(heatmap_scale, heatmap_bias, frozen)
        if not (isinstance(decoder_bn_passes, int) and decoder_bn_passes >= 0):
            raise ValueError('decoder_bn_passes must be an int >= 0, got '
                             f'{decoder_bn_passes!r}')
        self.pool = nn.AdaptiveAvgPool2d(pool_size)
        self.mlp = mlp
        # errors name the config keys, as the tools' other config errors do
        self.propagator = LRPPropagator(
            epsilon, conv_rules, 'model.decode_head.conv_rules', stabilizer,
            prefix='model.decode_head.')
        self.class_chunk = class_chunk
        self.use_checkpoint = use_checkpoint
        self.tie = tie
        self.untied: Optional[nn.ParameterDict] = None  # build_untied
        self.heatmap_scale = heatmap_scale
        self.heatmap_bias = nn.Parameter(
            torch.zeros(num_classes)) if heatmap_bias else None
        self.frozen = frozen
        if frozen:  # the classifier gets no gradient
            self.conv_seg.requires_grad_(False)
            if self.mlp is not None:
                self.mlp.requires_grad_(False)
        self.init_present_classes(num_classes, test_class_threshold,
                                  test_class_topk, train_absent_topk)
        self.decoder_bn_passes = decoder_bn_passes

    def decode(self, inputs: LRPFeatures, index: Optional[Tensor] = None,
               keep: Optional[Tensor] = None) -> Tensor:
        """Heatmaps as logits ``(n, K, H, W)`` of the samples in ``index``
        (default: all), in fp32 even under AMP; ``keep``: ``(n, K)`` bool,
        the classes to decode (default: all), ``ABSENT`` elsewhere."""
        self.record_classifier(inputs)  # relevance starts at its logits
        classes, real = (None, None) if keep is None else kept_classes(keep)
        with torch.autocast(device_type=inputs[-1].device.type,
                            enabled=False), torch.set_grad_enabled(
                                torch.is_grad_enabled() and not self.frozen):
            heat = self.propagator.heatmaps(
                inputs.tape, classes=classes,
                select=select_rows(index, fp32=True),
                class_chunk=self.class_chunk,
                use_checkpoint=self.use_checkpoint,
                weights=self._decoder_weights())
        heat = heatmap_logits(heat, self.heatmap_scale, self.heatmap_bias,
                              classes)
        return heat if keep is None else fill_absent(heat, classes, real,
                                                     keep.shape[1])

    def forward(self, inputs: LRPFeatures) -> Tensor:
        """Segmentation logits: the K heatmaps, or with present-class
        inference those of the present classes (``ABSENT`` elsewhere)."""
        logits = self.classify(inputs).detach()  # recorded on inputs.tape
        return self.decode(inputs, keep=self.test_classes(logits))

    def image_labels(self, batch_data_samples: SampleList
                     ) -> Tuple[Tensor, Tensor]:
        """Multi-hot image labels ``(N, K)`` and which are known ``(N, )``
        (see :func:`batch_image_labels`)."""
        return batch_image_labels(batch_data_samples, self.num_classes,
                                  self.ignore_index)

    def loss(self, inputs: LRPFeatures, batch_data_samples: SampleList,
             train_cfg: ConfigType) -> dict:
        """Classification loss on all samples, segmentation loss on the
        heatmaps of the pixel-labelled ones (only those are decoded)."""
        seg_label = self._stack_batch_gt(batch_data_samples).squeeze(1)
        index = pixel_labelled_index(batch_data_samples, seg_label,
                                     self.ignore_index)
        logits = self.classify(inputs)  # recorded on inputs.tape
        cls_label, cls_valid = self.image_labels(batch_data_samples)
        heat = labels = None
        if len(index):
            labels = seg_label.index_select(0, index)
            heat = self.decode(inputs, index, self.train_classes(
                logits.detach().index_select(0, index), labels))
        losses = self.loss_decode(logits, cls_label, heat, labels, cls_valid)
        if self.decoder_bn_passes:
            rerun_residual_batch_norms(inputs.tape, self.decoder_bn_passes)
        pad = None if len(index) else idle_rank_loss(self, inputs,
                                                     logits.device)
        if pad is not None:  # a rank without pixel labels, under DDP
            losses['loss_seg'] = losses['loss_seg'] + pad
        losses['num_pixel_labelled'] = torch.tensor(
            float(len(index)), device=logits.device)
        if heat is not None:
            losses['acc_seg'] = accuracy(
                heat, labels, ignore_index=self.ignore_index)
        return losses
