"""Decoder weights of the LRP head that are not the encoder's (``tie``)."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from torch import Tensor

TIE_MODES = (True, False, 'original')


def check_tie(tie: Union[bool, str]) -> None:
    """Refuse a ``tie`` that is not one of :data:`TIE_MODES` (1 and 0
    included: they compare equal to True and False)."""
    if tie not in TIE_MODES or isinstance(tie, int) and not isinstance(
            tie, bool):
        raise ValueError(f'tie must be one of {TIE_MODES}, got {tie!r}')


def _key(name: str) -> str:
    """A tape name as a ``ParameterDict`` key (no dots)."""
    return name.replace('.', '__')


class UntiedDecoderMixin:
    """The decoder's own weights for :class:`LRPTiedHead` (``tie`` False or
    ``'original'``).

    ``tie=True``: the decoder uses the encoder's and the classifier's weight
    tensors. ``tie=False``: it has its own copy of every weighted encoder
    layer (BN included), trained separately (ablation); the copies start
    from the encoder's weights as loaded (``load_from``, else as
    initialised). ``tie='original'``: the parametrisation the original code
    ran with on GPU (its aliases became copies when the model moved to the
    device): own copies of the conv and linear layers, the classifier's
    included, taken when the model is initialised (ImageNet weights, a
    random classifier) and never overwritten by a loaded checkpoint that
    lacks them; BN layers use the encoder's own parameters.

    The copies live in the head's ``untied`` ``ParameterDict`` (checkpoint
    keys ``decode_head.untied.<layer name with __ for .>``). The segmentor
    calls :meth:`build_untied` once the backbone is built and
    :meth:`copy_untied_from` after initialisation or loading. The head
    provides ``tie``, ``untied`` (None until built) and
    ``classifier_layers()``.
    """

    tie: Union[bool, str]
    untied: Optional[nn.ParameterDict]

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
        """Create the decoder's own weights.

        Args:
            backbone: The encoder the decoder unrolls.
        """
        self.untied = nn.ParameterDict({
            _key(n): nn.Parameter(m.weight.detach().clone())
            for n, m in self._copied_layers(backbone)
        })
        # BN layers of tie='original' keep using the encoder's parameters
        self._own = {} if self.tie is False else {
            n: m for n, m in backbone.named_modules()
            if isinstance(getattr(m, 'weight', None), nn.Parameter)
            and _key(n) not in self.untied
        }

    @torch.no_grad()
    def copy_untied_from(self, backbone: nn.Module,
                         keys: Optional[Sequence[str]] = None) -> None:
        """(Re)start the decoder's own weights as copies of the encoder's
        and the classifier's.

        Args:
            backbone: The encoder.
            keys: ``untied`` keys to copy (default: all).
        """
        for name, m in self._copied_layers(backbone):
            key = _key(name)
            if keys is None or key in keys:
                self.untied[key].copy_(m.weight)

    def _decoder_weights(self) -> Optional[Dict[str, Tensor]]:
        """The weight each recorded layer's rule uses, by tape name (None:
        the layers' own, ``tie=True``)."""
        if self.tie is True:
            return None
        weights = {k.replace('__', '.'): v for k, v in self.untied.items()}
        weights.update((n, m.weight) for n, m in self._own.items())
        return weights
