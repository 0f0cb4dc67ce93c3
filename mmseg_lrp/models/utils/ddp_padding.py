"""Keeping a rank that decodes nothing in step with the others under DDP."""
from typing import Optional

import torch
import torch.nn as nn
from torch import Tensor


def idle_rank_loss(head: nn.Module, inputs: tuple,
                   device: torch.device) -> Optional[Tensor]:
    """A zero loss for a batch without pixel-labelled samples (no decode).

    Two things must still happen on such a rank: SyncBN's LRP rule gathers
    statistics from every rank, so it decodes one sample whose loss weighs
    nothing; and DDP expects a gradient for every parameter, so the
    parameters only the segmentation loss reaches (the untied decoder,
    ``heatmap_bias``) join the graph times 0.

    Args:
        head: The :class:`LRPTiedHead` (its ``decode``, ``untied``,
            ``heatmap_bias``).
        inputs: The encoder features with their tape (``LRPFeatures``).
        device: Where the loss lives.

    Returns:
        Tensor: 0 with the graph described, to add to the segmentation
        loss; None if nothing needs it.
    """
    terms = []
    if inputs.tape.needs_all_ranks():
        terms.append(head.decode(inputs, index=torch.zeros(
            1, dtype=torch.long, device=device)).sum() * 0)
    unused = [] if head.untied is None else list(head.untied.values())
    if head.heatmap_bias is not None:
        unused.append(head.heatmap_bias)
    if unused:
        terms.append(sum(p.sum() for p in unused) * 0)
    return sum(terms) if terms else None
