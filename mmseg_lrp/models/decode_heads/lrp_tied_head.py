"""The LRP-unrolled tied decode head."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from torch import Tensor

from mmengine.model import Sequential
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.losses import accuracy
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, SampleList
from mmseg_lrp.lrp import (CLASSIFIER, LRPPropagator, Tape, full_precision,
                           recorded_layers, select_rows)
from mmseg_lrp.lrp.compat import rerun_residual_batch_norms
from ..utils.image_labels import batch_image_labels


TIE_MODES = (True, False, 'original')
# Logit of the classes that present-class decoding leaves out: finite, so
# that resizing (0 x value) stays finite; far below any heatmap.
ABSENT = -1e9


def _kept_classes(keep: Tensor) -> Tuple[Tensor, Tensor]:
    """``(n, K)`` bool -> ``(n, k)`` class indices (k = most kept in a row;
    shorter rows padded with their first kept class) and ``(n, k)`` bool,
    False on the padding."""
    counts = keep.sum(1)
    if not bool((counts > 0).all()):
        raise ValueError('every decoded sample needs at least one class')
    k = int(counts.max())
    order = torch.sort((~keep).to(torch.uint8), dim=1, stable=True).indices
    real = torch.arange(k, device=keep.device) < counts[:, None]
    return torch.where(real, order[:, :k], order[:, :1]), real


class LRPFeatures(tuple):
    """Encoder outputs (a tuple, as mmseg expects) carrying the tape of the
    forward call that produced them."""

    def __new__(cls, feats: Sequence[Tensor], tape: Tape):
        obj = super().__new__(cls, feats)
        obj.tape = tape
        return obj


@MODELS.register_module()
class LRPTiedHead(BaseDecodeHead):
    """Classifier + its unrolled LRP backward pass as the segmentation head.

    The classifier is global average pooling + a linear layer over K classes
    (background included); it is stored as ``conv_seg`` (a 1x1 conv on the
    pooled features), so checkpoints keep mmseg's standard keys. With
    ``pool_size`` / ``fc_channels`` it is torchvision's VGG classifier
    instead: adaptive average pooling to ``pool_size`` x ``pool_size``, then
    linear + ReLU + dropout layers (``mlp``), then ``conv_seg``. For each
    class k the relevance ``z_k e_k`` at the logits is propagated back
    through the encoder (the tape recorded by :class:`LRPEncoderDecoder`)
    with the encoder's own weights; the heatmaps at the input resolution,
    one per class, are the segmentation logits.

    Args:
        in_channels: Channels of the encoder's last feature map.
        num_classes: K, background included.
        epsilon: Stabilizer of the divisions by activations (1e-8:
            effectively LRP-0).
        stabilizer: ``'cutoff'`` (default): units with ``|z| <=
            epsilon`` pass no relevance, and the weight gradient of the
            heatmaps is that of gradient x input, also under AMP.
            ``'sign'``: ``z + epsilon * sign(z)`` (the textbook LRP-epsilon),
            whose weight gradient carries spikes of up to
            ``1 / epsilon`` at units near 0 (see
            :func:`mmseg_lrp.lrp.functional.divide`). ``'shift'``: ``z +
            epsilon`` whatever the sign of ``z``, the original code's
            ``safe_divide`` (paper-compat configs).
        conv_rules: Rules for layer groups by name, first match wins,
            e.g. ``[dict(layers='*', type='zplus')]`` (see
            :class:`~mmseg_lrp.lrp.RuleMap`; default: each layer type's
            registered rule, LRP-epsilon for conv layers).
        class_chunk: Decode this many classes at a time (default: all K in
            one pass).
        use_checkpoint: Memory-bounded exact mode: each class chunk is
            recomputed in the backward pass (one backward, DDP-safe).
        tie: True (default): the decoder uses the encoder's weight tensors.
            False: the decoder has its own copy of every weighted encoder
            layer, trained separately (ablation); the copies start from the
            encoder's weights as loaded (``load_from``, else as
            initialised). ``'original'``: the parametrisation the original
            code ran with on GPU (its aliases became copies when the model
            moved to the device): own copies of the conv and linear layers,
            the classifier's included, taken when the model is initialised
            (ImageNet weights, a random classifier) and never overwritten by
            a loaded checkpoint that lacks them; BN layers use the
            encoder's own parameters.
        pool_size: Output size of the classifier's adaptive average pooling
            (1: global average pooling; 7: torchvision's VGG).
        fc_channels: Widths of the hidden linear layers between the pooling
            and ``conv_seg``, e.g. ``(4096, 4096)`` for VGG's fc6, fc7.
        fc_dropout: Dropout after each hidden layer's ReLU.
        fc_init_cfg: ``init_cfg`` of the hidden layers (``mlp``), e.g.
            ``dict(type='Pretrained', checkpoint=<mmpretrain VGG>,
            prefix='backbone.classifier.')`` for the ImageNet fc6 / fc7.
        heatmap_scale: Factor on the heatmaps before they serve as logits:
            1.0 (default, the paper's method) or ``'pixels'`` (times the
            number of input pixels, so a heatmap's mean is its class logit
            instead of the logit spread thin over every pixel), or any
            positive float. A positive factor changes no prediction (the
            per-pixel argmax); it is the softmax temperature of the
            segmentation loss. LRP conserves ``sum(H_k) = z_k``, so at
            H x W pixels unscaled heatmaps start ~1/(HW) of a logit apart and
            the loss sits at ln K until the weights grow by orders of
            magnitude; ``'pixels'`` removes that wait when training from a
            random or classification-only initialisation.
        frozen: The no-guidance reference: the classifier gets no
            gradient and the heatmaps are computed without autograd, so the
            segmentation loss fits ``heatmap_bias`` (a per-class threshold)
            on fixed heatmaps and nothing else. Needs ``heatmap_bias``;
            freeze the backbone too (``frozen_stages``, ``norm_eval``).
            Without autograd through the decoder the toy reference's
            300-iteration run took 84 s instead of 133 s.
        test_class_threshold: Present-class inference: decode only
            background (class 0) and the classes whose classifier
            probability ``sigmoid(z_k)`` exceeds this; the others get the
            logit ``ABSENT`` (-1e9). Default None: all K (exact).
        test_class_topk: Present-class inference by rank: background and
            the ``k`` highest-scoring other classes.
        train_absent_topk: Present-class training: decode, for each
            pixel-labelled sample, background, the classes of its mask and
            the ``k`` highest-scoring absent classes; the cross-entropy
            runs over those (the others get ``ABSENT``). Default None: all
            K (exact).
        decoder_bn_passes: Paper-compat: in training, update the running
            statistics of the batch norm ending each residual branch and
            of the shortcut's as this many extra train-mode calls per step
            would, as the original's ResNet decoder does on each of its
            passes (42 per step for K = 21 with ``--iterative_gradients``;
            :func:`mmseg_lrp.lrp.compat.rerun_residual_batch_norms`). The
            heatmaps are unchanged; what validation sees is not. Default 0.
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
        for key in ('in_index', 'input_transform', 'channels',
                    'out_channels'):
            if key in kwargs:
                raise ValueError(f'LRPTiedHead does not take {key!r}: it '
                                 "reads the encoder's last output")
        if kwargs.get('dropout_ratio', 0):
            raise ValueError('LRPTiedHead: dropout_ratio must be 0 (dropout '
                             'before the classifier breaks the relevance '
                             'identity)')
        kwargs['dropout_ratio'] = 0
        if not isinstance(in_channels, int):
            raise ValueError(f'in_channels must be an int, got {in_channels}')
        if tie not in TIE_MODES or isinstance(tie, int) and not isinstance(
                tie, bool):
            raise ValueError(f'tie must be one of {TIE_MODES}, got {tie!r}')
        if not (isinstance(pool_size, int) and pool_size >= 1):
            raise ValueError(f'pool_size must be an int >= 1, got '
                             f'{pool_size!r}')
        if not 0 <= fc_dropout < 1:
            raise ValueError(f'fc_dropout must be in [0, 1), got {fc_dropout}')
        width = in_channels * pool_size**2
        layers = []
        for c in fc_channels:
            layers += [nn.Linear(width, c), nn.ReLU(), nn.Dropout(fc_dropout)]
            width = c
        super().__init__(
            in_channels=in_channels,
            channels=width,
            num_classes=num_classes,
            out_channels=num_classes,
            loss_decode=loss_decode,
            **kwargs)
        if class_chunk is not None and not 0 < class_chunk:
            raise ValueError(f'class_chunk must be > 0, got {class_chunk}')
        self.pool = nn.AdaptiveAvgPool2d(pool_size)
        self.mlp = Sequential(
            *layers, init_cfg=fc_init_cfg) if layers else None
        if fc_init_cfg is not None and not layers:
            raise ValueError('fc_init_cfg needs fc_channels')
        # errors name the config keys, as the tools' other config errors do
        self.propagator = LRPPropagator(
            epsilon, conv_rules, 'model.decode_head.conv_rules', stabilizer,
            prefix='model.decode_head.')
        self.class_chunk = class_chunk
        self.use_checkpoint = use_checkpoint
        self.tie = tie
        if not (heatmap_scale == 'pixels' or
                (isinstance(heatmap_scale, (int, float))
                 and heatmap_scale > 0)):
            raise ValueError("heatmap_scale must be a positive number or "
                             f"'pixels', got {heatmap_scale!r}")
        self.heatmap_scale = heatmap_scale
        self.heatmap_bias = nn.Parameter(
            torch.zeros(num_classes)) if heatmap_bias else None
        if frozen and not heatmap_bias:
            raise ValueError('frozen=True fits only heatmap_bias: set '
                             'heatmap_bias=True')
        self.frozen = frozen
        if frozen:
            for p in list(self.conv_seg.parameters()) + list(
                    self.mlp.parameters() if self.mlp is not None else []):
                p.requires_grad_(False)
        self.untied: Optional[nn.ParameterDict] = None
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
        if not (isinstance(decoder_bn_passes, int) and decoder_bn_passes >= 0):
            raise ValueError('decoder_bn_passes must be an int >= 0, got '
                             f'{decoder_bn_passes!r}')
        self.decoder_bn_passes = decoder_bn_passes

    # -- untied decoders ----------------------------------------------------
    @staticmethod
    def _key(name: str) -> str:
        return name.replace('.', '__')

    def recorded_classifier_layers(self) -> List[Tuple[str, nn.Module]]:
        """Every classifier layer the tape records, by its tape name."""
        return [(CLASSIFIER + 'pool', self.pool)] + [
            (f'{CLASSIFIER}mlp.{i}', m) for i, m in enumerate(self.mlp or ())
        ] + [(CLASSIFIER + 'fc', self.conv_seg)]

    def check_rules(self, backbone: nn.Module) -> None:
        """Refuse ``conv_rules`` that would never apply to ``backbone`` and
        this classifier (:meth:`mmseg_lrp.lrp.RuleMap.check`)."""
        self.propagator.rule_map.check(
            recorded_layers(backbone) + self.recorded_classifier_layers())

    def classifier_layers(self) -> List[Tuple[str, nn.Module]]:
        """The classifier's weighted layers by their tape names."""
        layers = [] if self.mlp is None else [
            (f'{CLASSIFIER}mlp.{i}', m) for i, m in enumerate(self.mlp)
            if isinstance(m, nn.Linear)
        ]
        return layers + [(CLASSIFIER + 'fc', self.conv_seg)]

    def _copied_layers(self, backbone: nn.Module
                       ) -> List[Tuple[str, nn.Module]]:
        """The layers whose weight the untied decoder copies."""
        if self.tie is False:
            return [(n, m) for n, m in backbone.named_modules()
                    if isinstance(getattr(m, 'weight', None), nn.Parameter)]
        return [(n, m) for n, m in backbone.named_modules()
                if isinstance(m, (nn.Conv2d, nn.Linear))
                ] + self.classifier_layers()

    def build_untied(self, backbone: nn.Module) -> None:
        """Create the decoder's own weights (``tie`` False or
        ``'original'``)."""
        self.untied = nn.ParameterDict({
            self._key(n): nn.Parameter(m.weight.detach().clone())
            for n, m in self._copied_layers(backbone)
        })
        # BN layers of tie='original' keep using the encoder's parameters
        self._own = {} if self.tie is False else {
            n: m for n, m in backbone.named_modules()
            if isinstance(getattr(m, 'weight', None), nn.Parameter)
            and self._key(n) not in self.untied
        }

    @torch.no_grad()
    def copy_untied_from(self, backbone: nn.Module,
                         keys: Optional[Sequence[str]] = None) -> None:
        """(Re)start the untied decoder's weights (those in ``keys``, all if
        None) as copies of the encoder's and the classifier's."""
        for name, m in self._copied_layers(backbone):
            key = self._key(name)
            if keys is None or key in keys:
                self.untied[key].copy_(m.weight)

    def _decoder_weights(self) -> Optional[Dict[str, Tensor]]:
        if self.tie is True:
            return None
        weights = {k.replace('__', '.'): v for k, v in self.untied.items()}
        weights.update((n, m.weight) for n, m in self._own.items())
        return weights

    # -- forward -------------------------------------------------------------
    def classify(self, inputs: Sequence[Tensor]) -> Tensor:
        """Image-level logits ``(N, K)``.

        On :class:`LRPFeatures` the classifier (pool, ``conv_seg``) is
        recorded on their tape, once (later calls return the recorded
        logits), if the tape ends with the encoder's last output.
        """
        feat = inputs[-1]
        tape = getattr(inputs, 'tape', None)
        if tape is not None and tape.has_classifier():
            return tape.output().flatten(1)
        if feat.shape[1] != self.in_channels:
            raise ValueError(
                f'LRPTiedHead(in_channels={self.in_channels}) got encoder '
                f'features with {feat.shape[1]} channels: set '
                f'decode_head.in_channels={feat.shape[1]}')
        record = tape is not None and tape.output() is feat
        x = self.pool(feat)
        if record:
            tape.record(self.pool, feat, x, CLASSIFIER + 'pool')
        if self.mlp is not None or x.shape[-1] > 1:
            x = x.flatten(1)  # undone by the propagator between records
        for i, layer in enumerate(self.mlp or ()):
            y = full_precision(layer(x))
            if record:
                tape.record(layer, x, y, f'{CLASSIFIER}mlp.{i}')
            x = y
        x = x.view(x.shape[0], -1, 1, 1)
        logits = full_precision(self.conv_seg(x))
        if record:
            tape.record(self.conv_seg, x, logits, CLASSIFIER + 'fc')
        return logits.flatten(1)

    def decode(self, inputs: LRPFeatures,
               index: Optional[Tensor] = None,
               keep: Optional[Tensor] = None) -> Tensor:
        """Heatmaps ``(n, K, H, W)`` of the samples in ``index`` (all if
        None), computed in fp32 even under AMP.

        Args:
            inputs: Encoder features with their tape.
            index: Samples to decode (default: all).
            keep: ``(n, K)`` bool, the classes to decode per decoded sample
                (default: all); the others get the logit ``ABSENT``.
        """
        tape = getattr(inputs, 'tape', None)
        if not tape:
            raise RuntimeError(
                'LRPTiedHead needs the tape of the encoder forward pass: use '
                'it with LRPEncoderDecoder')
        self.classify(inputs)
        if not tape.has_classifier():
            raise RuntimeError(
                "the encoder's last output is not the output of its last "
                'recorded layer: out_indices must include the last stage')
        classes = first = None
        if keep is not None:
            classes, first = _kept_classes(keep)
        with torch.autocast(device_type=inputs[-1].device.type,
                            enabled=False), torch.set_grad_enabled(
                                torch.is_grad_enabled() and not self.frozen):
            heat = self.propagator.heatmaps(
                tape,
                classes=classes,
                select=select_rows(index, fp32=True),
                class_chunk=self.class_chunk,
                use_checkpoint=self.use_checkpoint,
                weights=self._decoder_weights())
        if self.heatmap_scale == 'pixels':
            heat = heat * float(heat.shape[-2] * heat.shape[-1])
        elif self.heatmap_scale != 1:
            heat = heat * float(self.heatmap_scale)
        if self.heatmap_bias is not None:
            bias = self.heatmap_bias.to(heat.dtype)
            bias = bias.view(1, -1) if classes is None else bias[classes]
            heat = heat + bias[..., None, None]
        if classes is None:
            return heat
        # padding columns repeat a decoded class: detached, so that its
        # gradient is counted once
        heat = torch.where(first[..., None, None], heat, heat.detach())
        full = heat.new_full(heat.shape[:1] + keep.shape[1:] + heat.shape[2:],
                             ABSENT)
        return full.scatter(
            1, classes[..., None, None].expand(-1, -1, *heat.shape[2:]), heat)

    def test_classes(self, logits: Tensor) -> Optional[Tensor]:
        """``(N, K)`` classes that present-class inference decodes: class
        0 (background) and those the classifier finds; None: all."""
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

    def forward(self, inputs: LRPFeatures) -> Tensor:
        """Segmentation logits of every sample: the K heatmaps, or with
        ``test_class_threshold`` / ``test_class_topk`` those of the present
        classes (``ABSENT`` elsewhere)."""
        return self.decode(
            inputs, keep=self.test_classes(self.classify(inputs).detach()))

    # -- training ------------------------------------------------------------
    def image_labels(self, batch_data_samples: SampleList
                     ) -> Tuple[Tensor, Tensor]:
        """Multi-hot image labels ``(N, K)`` and which are known ``(N, )``
        (see :func:`batch_image_labels`)."""
        return batch_image_labels(batch_data_samples, self.num_classes,
                                  self.ignore_index)

    def loss(self, inputs: LRPFeatures, batch_data_samples: SampleList,
             train_cfg: ConfigType) -> dict:
        """Classification loss on all samples, segmentation loss on the
        heatmaps of the samples with pixel labels (only those are
        decoded)."""
        seg_label = self._stack_batch_gt(batch_data_samples).squeeze(1)
        has_pixels = (seg_label != self.ignore_index).flatten(1).any(1)
        for i, s in enumerate(batch_data_samples):
            if s.metainfo.get('has_pixel_label', True) is False:
                has_pixels[i] = False
        index = has_pixels.nonzero().flatten()
        logits = self.classify(inputs)
        cls_label, cls_valid = self.image_labels(batch_data_samples)
        heat = labels = None
        if len(index):
            labels = seg_label.index_select(0, index)
            heat = self.decode(inputs, index, self.train_classes(
                logits.detach().index_select(0, index), labels))
        losses = self.loss_decode(logits, cls_label, heat, labels, cls_valid)
        if self.decoder_bn_passes:
            rerun_residual_batch_norms(inputs.tape, self.decoder_bn_passes)
        if heat is None and inputs.tape.needs_all_ranks():
            # SyncBN's LRP rule gathers statistics from every rank: take
            # part with one sample whose segmentation loss weighs nothing
            losses['loss_seg'] = losses['loss_seg'] + self.decode(
                inputs,
                index=torch.zeros(1, dtype=torch.long,
                                  device=logits.device)).sum() * 0
        if heat is None:
            # keep every parameter in the graph (DDP) with a zero loss
            unused = [] if self.untied is None else list(
                self.untied.values())
            if self.heatmap_bias is not None:
                unused.append(self.heatmap_bias)
            if unused:
                losses['loss_seg'] = losses['loss_seg'] + sum(
                    p.sum() for p in unused) * 0
        losses['num_pixel_labelled'] = torch.tensor(
            float(len(index)), device=logits.device)
        if heat is not None:
            losses['acc_seg'] = accuracy(
                heat, labels, ignore_index=self.ignore_index)
        return losses

    def train_classes(self, logits: Tensor,
                      seg_label: Tensor) -> Optional[Tensor]:
        """``(n, K)`` classes that present-class training decodes for the
        pixel-labelled samples: class 0, the classes of each mask, and the
        ``train_absent_topk`` highest-scoring absent ones; None: all."""
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

    def predict(self, inputs: LRPFeatures, batch_img_metas: List[dict],
                test_cfg: ConfigType) -> Tensor:
        return self.predict_by_feat(self.forward(inputs), batch_img_metas)
