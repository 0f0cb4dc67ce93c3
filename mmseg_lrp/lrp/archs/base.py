"""Architecture families: what the LRP core knows about a kind of encoder.

A :class:`Family` is a value: the encoder types it unrolls (with checks of
their settings), its *blocks* (modules whose forward is more than a chain
of their children: residual blocks, a transformer layer, a ViT's embedding
glue) with a :class:`BlockAdapter` each, the containers whose forward is a
plain chain of their children, and its layer map entries (which rule
decodes which of its layer types). A new family is one file that builds one
such value and one :func:`register_family` call (``docs/model.md``).

Types are named by qualified name (``'pkg.module.Class'``), so the core
imports neither mmpretrain nor torchvision; a block or encoder type matches
only exactly (a subclass may change ``forward``).
"""
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import torch.nn as nn
from torch import Tensor

from ..records import LayerRecord, Record, ResidualRecord, Tape
from ..rule_map import LayerMap, default_rule_name
from ..rules import qualname

# Returns an error message for an unsupported configuration, or None.
Check = Callable[[nn.Module], Optional[str]]
Hook = Callable[[nn.Module, tuple, object], Optional[object]]


class BlockAdapter:
    """How one block type's forward call becomes records.

    The recorder gives :meth:`build` the records of the leaf layers (and
    nested blocks) the call ran, in order; the adapter returns the records
    that stand for the block in its parent's tape (e.g. one
    :class:`~..records.ResidualRecord`, or the leaf records with the
    functional glue between them as operation records).
    """

    def hooks(self, module: nn.Module) -> List[Tuple[nn.Module, Hook]]:
        """Forward hooks to add to submodules while recording (run after
        the leaf hooks)."""
        return []

    def ops(self, module: nn.Module, name: str
            ) -> List[Tuple[str, nn.Module, Optional[str]]]:
        """``(name, module, rule)`` of the operation records :meth:`build`
        adds, for the build-time rule checks: ``rule`` is the default rule
        of an operation recorded with its linear part (``fn``), None for
        one decoded by its module's type (e.g. an attention core)."""
        return []

    def build(self, module: nn.Module, name: str, records: Tape,
              inputs: tuple, output) -> List[Record]:
        raise NotImplementedError


def _contains(parent: Optional[nn.Module], module: nn.Module) -> bool:
    return parent is not None and any(m is module for m in parent.modules())


def _clone(module, inputs, output):
    # The block adds the shortcut to this output in place: keep the
    # original for the tape, let the block mutate a copy.
    return output.clone()


@dataclass
class ResidualBlock(BlockAdapter):
    """A residual block ``out = post(main(x) + shortcut(x))``.

    Args:
        main_last: Returns the last layer of the residual branch (its output
            is the summand ``m``; blocks that add the shortcut to it in
            place get a clone, so the tape keeps the original).
        shortcut: Returns the shortcut module, or None for identity.
    """
    main_last: Callable[[nn.Module], nn.Module]
    shortcut: Callable[[nn.Module], Optional[nn.Module]]

    def hooks(self, module):
        return [(self.main_last(module), _clone)]

    def build(self, module, name, records, inputs, output):
        last, shortcut_mod = self.main_last(module), self.shortcut(module)
        idx = max(i for i, r in enumerate(records) if r.module is last)

        def part(recs, inside):
            return Tape(r for r in recs
                        if _contains(shortcut_mod, r.module) == inside)

        # the shortcut may run before the branch's last layer (mmpretrain's
        # blocks: downsample, then drop_path, then the addition)
        main, post = part(records[:idx + 1], False), part(
            records[idx + 1:], False)
        shortcut = part(records, True)
        shortcut_out = shortcut.output() if shortcut else inputs[0]
        return [ResidualRecord(module, main, shortcut, post, main.output(),
                               shortcut_out, name)]


@dataclass(frozen=True)
class Family:
    """One architecture family.

    Args:
        name: Registry key.
        encoders: Encoder (backbone) types by qualified name, each with a
            check that refuses unsupported settings (or None).
        blocks: Block types by qualified name and their adapters.
        containers: Types whose forward calls their children in order, each
            with a check (or None).
        layers: Layer map entries ``(layer type, rule name)`` for this
            family's layer types.
    """
    name: str
    encoders: Mapping[str, Optional[Check]] = field(default_factory=dict)
    blocks: Mapping[str, BlockAdapter] = field(default_factory=dict)
    containers: Mapping[str, Optional[Check]] = field(default_factory=dict)
    layers: LayerMap = ()


FAMILIES: Dict[str, Family] = {}


def register_family(family: Family) -> Family:
    """Make ``family`` known to the recorder, checks and rule maps built
    from now on; returns it.

    Raises:
        KeyError: Another family of that name is registered.
    """
    if FAMILIES.get(family.name, family) is not family:
        raise KeyError(f'an LRP family named {family.name!r} is registered')
    FAMILIES[family.name] = family
    return family


def unregister_family(name: str) -> None:
    """Forget a family (tests, interactive sessions)."""
    FAMILIES.pop(name, None)


def layer_map() -> LayerMap:
    """Every registered family's layer map entries, in registration order
    (the core's ``torch.nn`` entries come last, so that families may give
    their subclasses of torch layers other rules)."""
    fams = list(FAMILIES.values())
    fams.sort(key=lambda f: f.name == 'torch')
    return tuple(e for f in fams for e in f.layers)


def _lookup(kind: str, module: nn.Module):
    key = qualname(type(module))
    for fam in FAMILIES.values():
        table = getattr(fam, kind)
        if key in table:
            return True, table[key]
    return False, None


def block_adapter(module: nn.Module) -> Optional[BlockAdapter]:
    """The adapter of a block, or None."""
    return _lookup('blocks', module)[1]


# -- what the recorder records, and checks -----------------------------------
def recorded_layers(root: nn.Module, layers: Optional[LayerMap] = None
                    ) -> List[Tuple[str, nn.Module]]:
    """``(name, module)`` of every block and leaf layer with a rule of
    ``root`` (the modules :class:`~..tape.TapeRecorder` hooks), by the
    names that rule patterns match."""
    layers = layer_map() if layers is None else layers
    return [(name, m) for name, m in root.named_modules()
            if block_adapter(m) is not None or (
                not list(m.children())
                and default_rule_name(m, layers) is not None)]


def rule_targets(root: nn.Module
                 ) -> List[Tuple[str, nn.Module, Optional[str]]]:
    """``(name, module, op)`` of everything a rule pattern can name:
    recorded leaf layers (``op`` None) and the operations blocks record
    (``op``: their default rule, see :meth:`BlockAdapter.ops`)."""
    out = []
    for name, m in recorded_layers(root):
        adapter = block_adapter(m)
        if adapter is None:
            out.append((name, m, None))
        else:
            out += adapter.ops(m, name)
    return out


def unsupported_layers(root: nn.Module, layers: Optional[LayerMap] = None
                       ) -> List[Tuple[str, str]]:
    """``(qualified name, type name)`` of every leaf module of ``root``
    without a rule in the layer map."""
    layers = layer_map() if layers is None else layers
    return [(name, type(m).__name__) for name, m in root.named_modules()
            if not list(m.children())
            and default_rule_name(m, layers) is None]


def inplace_activations(root: nn.Module) -> List[str]:
    """Names of leaf layers of ``root`` that work in place.

    (Containers such as mmcv's ``ConvModule`` carry an ``inplace`` flag
    that is only a default for their activation; the leaves decide.)
    """
    return [
        name for name, m in root.named_modules()
        if not list(m.children()) and getattr(m, 'inplace', False) is True
    ]


def check_encoder(encoder: nn.Module, inplace_act: str = 'error') -> None:
    """Raise a clear error if ``encoder`` cannot be unrolled exactly.

    Args:
        encoder: The built backbone.
        inplace_act: What to do with in-place activations, which overwrite
            the activations the decoder needs: ``'error'`` (default) or
            ``'disable'`` (switch them to out-of-place; same forward values,
            a little more memory; needed for mmpretrain's ResNet, whose
            ReLUs are in place by construction).

    Raises:
        ValueError: Naming the encoder, layer or option at fault.
    """
    kind = qualname(type(encoder))
    known, check = _lookup('encoders', encoder)
    if not known:
        names = sorted(k for f in FAMILIES.values() for k in f.encoders)
        raise ValueError(
            f'unsupported backbone {kind}: the LRP decoder can unroll '
            f'{", ".join(names)} (a new family is one adapter file and '
            'one mmseg_lrp.lrp.register_family call, docs/model.md)')
    problem = check and check(encoder)
    if problem:
        raise ValueError(f'backbone {type(encoder).__name__}: {problem}')
    for name, m in encoder.named_modules():
        if getattr(m, 'with_cp', False):
            raise ValueError(
                f'backbone.{name or "<root>"} has with_cp=True: '
                'checkpointed blocks record activations without autograd '
                'history; set with_cp=False (the LRP head has its own '
                'memory-bounded mode, use_checkpoint=True)')
    bad = unsupported_layers(encoder)
    if bad:
        listed = ', '.join(f'backbone.{n} ({t})' for n, t in bad[:5])
        raise ValueError(f'no LRP rule for layer type(s): {listed}')
    _check_containers(encoder, '')
    inplace = inplace_activations(encoder)
    if inplace_act not in ('error', 'disable'):
        raise ValueError(f"inplace_act must be 'error' or 'disable', got "
                         f'{inplace_act!r}')
    if inplace and inplace_act == 'disable':
        for name in inplace:
            encoder.get_submodule(name).inplace = False
    elif inplace:
        raise ValueError(
            'in-place activations overwrite the activations the LRP '
            f'decoder needs: backbone.{", backbone.".join(inplace[:5])}. '
            "Set act_cfg=dict(type='ReLU', inplace=False) in the backbone, "
            "or inplace_act='disable' in the segmentor")


def _check_containers(module: nn.Module, prefix: str) -> None:
    """Every container below ``module`` is a registered chain or block
    (inside a block, its adapter knows the structure)."""
    if block_adapter(module) is not None:
        return
    for name, child in module.named_children():
        full = prefix + name
        if block_adapter(child) is not None or not list(child.children()):
            continue
        known, check = _lookup('containers', child)
        if not known:
            raise ValueError(
                f'backbone.{full} ({type(child).__name__}) is a container '
                'without an LRP rule (its forward is not a known chain)')
        problem = check and check(child)
        if problem:
            raise ValueError(f'backbone.{full}: {problem}')
        _check_containers(child, full + '.')


def op_record(module: nn.Module, inp: Tensor, out: Tensor, name: str,
              fn: Optional[Callable] = None,
              rule: Optional[str] = None) -> LayerRecord:
    """A record of functional glue (see :class:`~..records.LayerRecord`)."""
    return LayerRecord(module, inp, out, name, fn, rule)


__all__: Sequence[str] = (
    'BlockAdapter', 'Check', 'Family', 'FAMILIES', 'ResidualBlock',
    'block_adapter', 'check_encoder', 'inplace_activations', 'layer_map',
    'op_record', 'recorded_layers', 'register_family', 'rule_targets',
    'unregister_family', 'unsupported_layers')
