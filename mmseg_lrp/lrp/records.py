"""What an encoder's forward call leaves for the decoder: records and tapes.

A *tape* is the ordered list of records of one forward call: a
:class:`LayerRecord` (module, input, output) per leaf layer and, for
residual blocks, a :class:`ResidualRecord` holding the records of both
branches and the two summands. The classifier (pooling, fc) is recorded on
the same tape after the encoder, under names that start with
``CLASSIFIER``, so relevance starts at the tape's output with one
``z_k e_k`` and walks one list.
"""
from dataclasses import dataclass
from typing import Callable, Iterator, Optional, Union

import torch.nn as nn
from torch import Tensor

from .functional import synced_bn

# Name prefix of the classifier's records (``classifier.pool``, ...).
CLASSIFIER = 'classifier.'


@dataclass
class LayerRecord:
    """What one leaf layer saw in the forward pass.

    Args:
        module: The layer (its parameters are the tied decoder weights).
        input: The layer's input tensor.
        output: The layer's output tensor (for conv/linear: the
            pre-activation ``z`` with bias).
        name: Qualified module name, for error messages and rule choice.
        fn: For an operation that is not a module's own forward (the
            functional glue an architecture adapter records, e.g. a ViT's
            class token and position embedding): the operation's linear part,
            ``t -> fn(t)`` for ``t`` with a leading class dim; ``module`` is
            then the module whose forward ran it.
        rule: Default rule name of such an operation (else the layer map's
            rule for ``module``'s type).
    """
    module: nn.Module
    input: Tensor
    output: Tensor
    name: str = ''
    fn: Optional[Callable[[Tensor], Tensor]] = None
    rule: Optional[str] = None


@dataclass
class ResidualRecord:
    """A residual block ``out = post(main(x) + shortcut(x))``.

    Args:
        module: The block.
        main: Records of the residual branch, in forward order.
        shortcut: Records of the shortcut branch (empty for identity).
        post: Records after the addition (e.g. the final ReLU).
        main_out: Output of the residual branch ``m``.
        shortcut_out: Output of the shortcut branch ``s`` (``x`` if identity).
        name: Qualified module name.
        out: The sum's output tensor where ``post`` is empty and the adapter
            knows it (a transformer layer's residual stream).
    """
    module: nn.Module
    main: 'Tape'
    shortcut: 'Tape'
    post: 'Tape'
    main_out: Tensor
    shortcut_out: Tensor
    name: str = ''
    out: Optional[Tensor] = None

    @property
    def input(self) -> Optional[Tensor]:
        """The block's input (that of its residual branch)."""
        return self.main.input()

    @property
    def output(self) -> Optional[Tensor]:
        """The block's output, if known."""
        return self.post.output() if self.post else self.out


Record = Union[LayerRecord, ResidualRecord]


class Tape(list):
    """Records in forward order (a list), with the queries decoders need."""

    def record(self, module: nn.Module, input: Tensor, output: Tensor,
               name: str) -> Tensor:
        """Append a layer that ran outside a recorder (e.g. the
        classifier); returns ``output`` for chaining."""
        self.append(LayerRecord(module, input, output, name))
        return output

    def input(self) -> Optional[Tensor]:
        """The input of the first record (None if it is not known)."""
        return self[0].input if self else None

    def output(self) -> Optional[Tensor]:
        """The output of the last record (None if it is not known)."""
        return self[-1].output if self else None

    def records(self) -> Iterator[Record]:
        """Every record, residual blocks and the records inside them
        included, each block before its branches."""
        for rec in self:
            yield rec
            if isinstance(rec, ResidualRecord):
                for part in (rec.main, rec.shortcut, rec.post):
                    yield from part.records()

    def layers(self) -> Iterator[LayerRecord]:
        """Every layer record, residual branches included."""
        return (r for r in self.records() if isinstance(r, LayerRecord))

    def has_classifier(self) -> bool:
        """Whether the classifier has been recorded after the encoder."""
        return bool(self) and self[-1].name.startswith(CLASSIFIER)

    def needs_all_ranks(self) -> bool:
        """Whether decoding involves collective ops (SyncBN under DDP),
        so every rank must decode."""
        return any(synced_bn(r.module) for r in self.layers())
