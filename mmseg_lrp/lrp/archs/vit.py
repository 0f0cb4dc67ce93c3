"""Vision transformers: mmpretrain's ``VisionTransformer`` (ViT, DeiT).

What the family adds to the core, all of it here:

- :class:`EncoderLayerAdapter`: a ``TransformerEncoderLayer`` is two
  residual sums on the token stream, ``x1 = x + attn(ln1(x))`` and
  ``out = x1 + ffn(ln2(x1))``; between the ``qkv`` and ``proj`` linear
  layers it records the attention core (``<layer>.attn``, decoded by the
  ``'attention'`` rule: probabilities constant, Ali et al., ICML 2022).
- :class:`ViTAdapter`: the encoder's functional glue as operation records:
  ``patch_embed.flatten`` (conv map to tokens; moves relevance),
  ``pos_embed`` (prepend the class token, add the position embedding: a
  bias-like term, decoded as LRP-epsilon, so the class token and position
  embedding absorb relevance as a bias does) and ``output`` (the class token
  or the patch tokens as a map; moves relevance).
- Layer map entries: LayerNorm (normalisation constant) and GELU (gate
  constant, relevance passes) are the core's; mmcv's ``DropPath`` passes,
  ``AdaptivePadding`` moves.

With those rules LRP-0 equals gradient x input of the same network with the
attention probabilities, LayerNorm's ``1 / sigma`` and GELU's gate detached
(``tests/test_lrp_vit.py``).
"""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..records import ResidualRecord, Tape
from .base import BlockAdapter, Family, op_record, register_family

VIT = 'mmpretrain.models.backbones.vision_transformer.'
ATTENTION = 'mmpretrain.models.utils.attention.MultiheadAttention'


def _join(prefix: str, name: str) -> str:
    return f'{prefix}.{name}' if prefix else name


def _index(records, module) -> int:
    for i, r in enumerate(records):
        if r.module is module:
            return i
    raise RuntimeError(f'{type(module).__name__} did not run: the forward '
                       'is not the one this adapter knows')


class EncoderLayerAdapter(BlockAdapter):
    """mmpretrain's ``TransformerEncoderLayer`` as two residual records."""

    def ops(self, module, name):
        return [(_join(name, 'attn'), module.attn, None)]

    def build(self, module, name, records, inputs, output):
        attn, recs = module.attn, list(records)
        qkv, proj = _index(recs, attn.qkv), _index(recs, attn.proj)
        end = _index(recs, attn.out_drop)  # the attention branch's last
        core = op_record(attn, recs[qkv].output, recs[proj].input,
                         _join(name, 'attn'))
        main1 = Tape(recs[:qkv + 1] + [core] + recs[proj:end + 1])
        main2 = Tape(recs[end + 1:])
        x1 = main2[0].input  # ln2's input: the stream after the first sum
        return [
            ResidualRecord(attn, main1, Tape(), Tape(), main1.output(),
                           inputs[0], _join(name, 'attn_residual'), out=x1),
            ResidualRecord(module.ffn, main2, Tape(), Tape(), main2.output(),
                           x1, _join(name, 'ffn_residual'), out=output)
        ]


def _flatten(t: torch.Tensor) -> torch.Tensor:
    return t.flatten(-2).transpose(-1, -2)


class ViTAdapter(BlockAdapter):
    """The embedding and output glue of mmpretrain's ``VisionTransformer``.
    """

    def ops(self, module, name):
        p = _join(name, '')
        return [(p + 'patch_embed.flatten', module.patch_embed, 'move'),
                (p + 'pos_embed', module, 'epsilon'),
                (p + 'output', module, 'move')]

    def build(self, module, name, records, inputs, output):
        p = _join(name, '')
        recs, pe = list(records), module.patch_embed
        i = _index(recs, pe.projection)
        conv_out = recs[i].output
        head = recs[:i + 1]
        if pe.norm is not None:
            tokens = recs[i + 1].input
            head += [op_record(pe, conv_out, tokens,
                               p + 'patch_embed.flatten', _flatten, 'move'),
                     recs[i + 1]]
            tokens, i = recs[i + 1].output, i + 1
        else:
            tokens = _flatten(conv_out)
            head.append(op_record(pe, conv_out, tokens,
                                  p + 'patch_embed.flatten', _flatten,
                                  'move'))
        d = _index(recs, module.drop_after_pos)
        extra = module.num_extra_tokens

        def embed(t):  # the linear part: class token and position embedding
            return F.pad(t, (0, 0, extra, 0))  # are constants (bias-like)

        head.append(op_record(module, tokens, recs[d].input, p + 'pos_embed',
                              embed, 'epsilon'))
        x, feat = recs[-1].output, output[-1]
        fmt = self.formatter(module, feat)
        got = None if x is None else fmt(x[None].detach())[0]
        if got is None or got.shape != feat.shape or not torch.equal(
                got, feat.detach()):
            raise RuntimeError(
                f'{type(module).__name__}: its last output is not the last '
                'layer\'s tokens as out_type says; out_indices must end with '
                'the last layer')
        tail = op_record(module, x, feat, p + 'output', fmt, 'move')
        return head + recs[d:] + [tail]

    @staticmethod
    def formatter(module, feat):
        extra = module.num_extra_tokens
        if module.out_type == 'cls_token':
            return lambda t: t[..., 0, :]
        h, w = feat.shape[-2:]

        def featmap(t):
            t = t[..., extra:, :]
            t = t.reshape(t.shape[:-2] + (h, w, t.shape[-1]))
            return t.movedim(-1, -3)

        return featmap


def _check_vit(m: nn.Module) -> Optional[str]:
    if m.out_type not in ('cls_token', 'featmap'):
        return (f"out_type={m.out_type!r} is not supported: use 'cls_token' "
                "(the head classifies the class token) or 'featmap' (the "
                "head's pooling averages the patch tokens)")
    if m.out_indices[-1] != m.num_layers - 1:
        return (f'out_indices={list(m.out_indices)} must end with the last '
                f'layer ({m.num_layers - 1}): the LRP head reads it')
    for i, layer in enumerate(m.layers):
        if type(layer).__name__ != 'TransformerEncoderLayer':
            return f'layers.{i} ({type(layer).__name__}) is not supported'
        attn, ffn = layer.attn, layer.ffn
        if attn.attn_drop:
            return (f'layers.{i}.attn: attention dropout {attn.attn_drop} '
                    'makes the probabilities the decoder recomputes random; '
                    'set attn_drop_rate=0')
        if attn.v_shortcut or getattr(attn.scaled_dot_product_attention,
                                      'func', None) is not None:
            return (f'layers.{i}.attn: v_shortcut and qk_scale are not '
                    'supported')
        if not getattr(ffn, 'add_identity', False):
            return f'layers.{i}.ffn: only FFN with add_identity=True'
    return None


VIT_FAMILY = register_family(
    Family(
        name='vit',
        encoders={VIT + 'VisionTransformer': _check_vit},
        blocks={
            VIT + 'VisionTransformer': ViTAdapter(),
            VIT + 'TransformerEncoderLayer': EncoderLayerAdapter(),
        },
        layers=((ATTENTION, 'attention'),
                ('mmcv.cnn.bricks.drop.DropPath', 'pass'),
                ('mmcv.cnn.bricks.transformer.AdaptivePadding', 'move'))))
