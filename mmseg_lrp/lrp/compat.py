"""Side effects of the original code's decoder that paper-compat mode
reproduces (TW-autoencoder 01d3932); the values of the heatmaps are not
affected."""
from typing import List

import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

from .records import LayerRecord, ResidualRecord, Tape


def residual_batch_norms(tape: Tape) -> List[LayerRecord]:
    """The batch norms that the original's inverse residual blocks call
    again on every decoder pass: the one that ends each block's residual
    branch (``bn3`` of a bottleneck, ``bn2`` of a basic block) and those of
    its shortcut (``downsample``), as ``Inv_Bottleneck.forward`` and
    ``Inv_BasicBlock.forward`` recompute the two summands
    (``network/decoders/unrolled_lrp/_inv_bottleneck.py``)."""
    found = []
    for rec in tape.records():
        if not isinstance(rec, ResidualRecord):
            continue
        # the branch's last record, past pass-through layers (mmpretrain's
        # drop_path: Identity at rate 0)
        last = next((r for r in reversed(rec.main)
                     if not (isinstance(r, LayerRecord) and isinstance(
                         r.module, nn.Identity))), None)
        if isinstance(last, LayerRecord) and isinstance(last.module,
                                                        _BatchNorm):
            found.append(last)
        found += [r for r in rec.shortcut.layers()
                  if isinstance(r.module, _BatchNorm)]
    return found


def rerun_residual_batch_norms(tape: Tape, passes: int) -> int:
    """Update the running statistics of :func:`residual_batch_norms` as
    ``passes`` decoder passes of the original code do in training: each
    pass calls each of them, in train mode, on its recorded input (the
    whole batch). The outputs are discarded: in train mode they equal the
    recorded ones. Layers in eval mode (``norm_eval``, validation) are
    left alone, as the original's eval-mode calls leave them.

    Args:
        tape: The tape of the step's encoder forward pass.
        passes: Decoder passes per step (the original: one per class, and
            twice that with ``--iterative_gradients``).

    Returns:
        int: How many layers were updated.
    """
    layers = [r for r in residual_batch_norms(tape) if r.module.training]
    with torch.no_grad():
        for _ in range(passes):
            for rec in layers:
                rec.module(rec.input.detach())
    return len(layers)
