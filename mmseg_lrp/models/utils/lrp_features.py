"""Encoder outputs that carry the tape of their forward call."""
from typing import Sequence

from torch import Tensor

from mmseg_lrp.lrp import Tape


class LRPFeatures(tuple):
    """Encoder outputs (a tuple, as mmseg expects) carrying the tape of the
    forward call that produced them (:class:`LRPEncoderDecoder` builds
    them, :class:`LRPTiedHead` decodes the tape).

    Args:
        feats: The encoder's outputs.
        tape: The tape recorded while computing them.
    """

    tape: Tape

    def __new__(cls, feats: Sequence[Tensor], tape: Tape) -> 'LRPFeatures':
        obj = super().__new__(cls, feats)
        obj.tape = tape
        return obj
