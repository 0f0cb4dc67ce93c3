"""The LRP head's image classifier (pooling, fc stack, ``conv_seg``) and its
recording on the encoder's tape, where decoding starts."""
from typing import List, Optional, Sequence, Tuple

import torch.nn as nn
from torch import Tensor

from mmengine.model import Sequential
from mmseg_lrp.lrp import (CLASSIFIER, LRPPropagator, Tape, full_precision,
                           rule_targets)


def check_head_kwargs(kwargs: dict) -> None:
    """Refuse the :class:`BaseDecodeHead` arguments the classifier fixes: it
    reads the encoder's last output whole, and no dropout before it (a
    dropout mask would break the relevance identity at the logits).

    Args:
        kwargs: The head's other arguments; ``dropout_ratio`` is set to 0.
    """
    for key in ('in_index', 'input_transform', 'channels', 'out_channels'):
        if key in kwargs:
            raise ValueError(f'LRPTiedHead does not take {key!r}: it reads '
                             "the encoder's last output")
    if kwargs.setdefault('dropout_ratio', 0):
        raise ValueError('LRPTiedHead: dropout_ratio must be 0 (dropout '
                         'before the classifier breaks the relevance '
                         'identity)')


def build_mlp(in_channels: int, pool_size: int, fc_channels: Sequence[int],
              fc_dropout: float, init_cfg: Optional[dict]
              ) -> Tuple[Optional[Sequential], int]:
    """The hidden layers between the pooling and ``conv_seg``.

    Args:
        in_channels: Channels of the encoder's last output (an int).
        pool_size: Output size of the adaptive average pooling (an int
            >= 1).
        fc_channels: Widths of the hidden linear layers (empty: none).
        fc_dropout: Dropout after each hidden layer's ReLU, in [0, 1).
        init_cfg: ``init_cfg`` of the hidden layers (needs
            ``fc_channels``).

    Returns:
        tuple: ``Linear, ReLU, Dropout`` per hidden layer as an mmengine
        ``Sequential`` (None without hidden layers), and the input width of
        ``conv_seg``.
    """
    if not isinstance(in_channels, int):
        raise ValueError(f'in_channels must be an int, got {in_channels}')
    if not (isinstance(pool_size, int) and pool_size >= 1):
        raise ValueError(f'pool_size must be an int >= 1, got {pool_size!r}')
    if not 0 <= fc_dropout < 1:
        raise ValueError(f'fc_dropout must be in [0, 1), got {fc_dropout}')
    if init_cfg is not None and not fc_channels:
        raise ValueError('fc_init_cfg needs fc_channels')
    width = in_channels * pool_size**2
    layers = []
    for c in fc_channels:
        layers += [nn.Linear(width, c), nn.ReLU(), nn.Dropout(fc_dropout)]
        width = c
    return (Sequential(*layers, init_cfg=init_cfg) if layers else None), width


def classifier_records(pool: nn.Module, mlp: Optional[nn.Module],
                       fc: nn.Module, weighted_only: bool = False
                       ) -> List[Tuple[str, nn.Module]]:
    """The classifier's layers by the names :func:`run_classifier` records
    them under (the names ``conv_rules`` patterns and untied weights use).

    Args:
        pool: The pooling.
        mlp: The hidden layers, or None.
        fc: The last layer (``conv_seg``), recorded as ``classifier.fc``.
        weighted_only: Only the layers with a weight (linear layers and
            ``fc``), not the pooling, ReLUs and dropouts.

    Returns:
        list: ``(tape name, module)`` in forward order.
    """
    hidden = [(f'{CLASSIFIER}mlp.{i}', m) for i, m in enumerate(mlp or ())
              if not weighted_only or isinstance(m, nn.Linear)]
    return ([] if weighted_only else [(CLASSIFIER + 'pool', pool)]
            ) + hidden + [(CLASSIFIER + 'fc', fc)]


def run_classifier(pool: nn.Module, mlp: Optional[nn.Module], fc: nn.Module,
                   feat: Tensor, tape: Optional[Tape] = None) -> Tensor:
    """Image-level logits of the encoder's last output, optionally recorded.

    Args:
        pool: The pooling.
        mlp: The hidden layers, or None.
        fc: ``conv_seg``, a 1x1 conv.
        feat: ``(N, C, H, W)``, or ``(N, C)`` (e.g. a vision transformer's
            class token), taken as ``(N, C, 1, 1)``.
        tape: If given, the tape ``feat`` is the output of: each layer is
            appended to it (names of :func:`classifier_records`).

    Returns:
        Tensor: ``(N, K)`` logits, in fp32 under AMP; with ``tape``, the
        last record's output flattened.
    """
    # A 1x1 map: the pooling's recorded input is this view; the propagator
    # reshapes the relevance back to (N, C) between the two records.
    x = feat[:, :, None, None] if feat.dim() == 2 else feat
    y = pool(x)
    if tape is not None:
        tape.record(pool, x, y, CLASSIFIER + 'pool')
    x = y
    if mlp is not None or x.shape[-1] > 1:
        x = x.flatten(1)  # undone by the propagator between records
    for i, layer in enumerate(mlp or ()):
        y = full_precision(layer(x))
        if tape is not None:
            tape.record(layer, x, y, f'{CLASSIFIER}mlp.{i}')
        x = y
    x = x.view(x.shape[0], -1, 1, 1)
    logits = full_precision(fc(x))
    if tape is not None:
        tape.record(fc, x, logits, CLASSIFIER + 'fc')
    return logits.flatten(1)


class LRPClassifierMixin:
    """The classifier of :class:`LRPTiedHead`: image-level logits, and their
    recording on the tape of the encoder call, where LRP starts.

    The head provides ``in_channels``, ``pool``, ``mlp`` (None without
    hidden layers), ``conv_seg`` and ``propagator``.
    """

    in_channels: int
    pool: nn.Module
    mlp: Optional[nn.Module]
    conv_seg: nn.Module
    propagator: LRPPropagator

    def recorded_classifier_layers(self) -> List[Tuple[str, nn.Module]]:
        """Every classifier layer the tape records, by its tape name."""
        return classifier_records(self.pool, self.mlp, self.conv_seg)

    def classifier_layers(self) -> List[Tuple[str, nn.Module]]:
        """The classifier's weighted layers by their tape names."""
        return classifier_records(self.pool, self.mlp, self.conv_seg,
                                  weighted_only=True)

    def check_rules(self, backbone: nn.Module) -> None:
        """Refuse ``conv_rules`` that would never apply to ``backbone`` and
        this classifier (:meth:`mmseg_lrp.lrp.RuleMap.check`): the
        encoder's recorded layers and the operations its blocks record
        (e.g. a ViT's attention cores)."""
        self.propagator.rule_map.check(
            rule_targets(backbone) + self.recorded_classifier_layers())

    def classify(self, inputs: Sequence[Tensor]) -> Tensor:
        """Image-level logits of the encoder's last output.

        On encoder features with a tape (``LRPFeatures``) that ends with
        that output, the classifier is recorded on the tape, once: later
        calls return the recorded logits, so the heatmaps decoded from the
        tape explain these logits. Other inputs (plain features, or a tape
        that ends elsewhere) run the classifier unrecorded.

        Args:
            inputs: The encoder's outputs; the last one is classified.

        Returns:
            Tensor: ``(N, K)`` logits.
        """
        feat, tape = inputs[-1], getattr(inputs, 'tape', None)
        if tape is not None and tape.has_classifier():
            return tape.output().flatten(1)
        if feat.shape[1] != self.in_channels:
            raise ValueError(
                f'LRPTiedHead(in_channels={self.in_channels}) got encoder '
                f'features with {feat.shape[1]} channels: set '
                f'decode_head.in_channels={feat.shape[1]}')
        record = tape is not None and tape.output() is feat
        return run_classifier(self.pool, self.mlp, self.conv_seg, feat,
                              tape if record else None)

    def record_classifier(self, inputs: Sequence[Tensor]) -> Tensor:
        """Like :meth:`classify`, but the classifier must end up on the tape
        (where decoding starts).

        Args:
            inputs: ``LRPFeatures`` (the encoder's outputs and their tape).

        Returns:
            Tensor: ``(N, K)`` logits, the tape's output.

        Raises:
            RuntimeError: ``inputs`` carry no tape, or the tape does not end
                with their last output (nothing to record the classifier
                on).
        """
        tape = getattr(inputs, 'tape', None)
        if not tape:
            raise RuntimeError(
                'LRPTiedHead needs the tape of the encoder forward pass: use '
                'it with LRPEncoderDecoder')
        logits = self.classify(inputs)
        if not tape.has_classifier():
            raise RuntimeError(
                "the encoder's last output is not the output of its last "
                'recorded layer: out_indices must include the last stage')
        return logits
