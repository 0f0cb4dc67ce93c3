"""Unrolled LRP through mmpretrain's VisionTransformer.

Oracle: with the ViT family's rules (attention probabilities constant on
the value path, LayerNorm's 1 / sigma constant, GELU's gate constant), LRP-0
equals gradient x input of the *same* network with those three quantities
detached, built here independently of the package: forward hooks replace
each LayerNorm's and GELU's output by the detached-factor form, and each
attention module's ``scaled_dot_product_attention`` by one whose softmax is
detached. float64, eval and train mode, class token and mean pooling;
class-batched == per-class loop; the training gradient of a loss on the
heatmaps == double backprop through the oracle.
"""
import math

import pytest
import torch
import torch.nn as nn

from conftest import gradient_x_input
from mmseg_lrp.lrp import (CLASSIFIER, LRPPropagator, TapeRecorder,
                           check_encoder, rule_targets)

pytest.importorskip('mmpretrain')
from mmpretrain.models.backbones import VisionTransformer  # noqa: E402

TOL = dict(rtol=1e-10, atol=1e-10)


def vit(out_type='cls_token', pre_norm=False, **kw):
    torch.manual_seed(0)
    m = VisionTransformer(
        arch=dict(embed_dims=24, num_layers=2, num_heads=3,
                  feedforward_channels=48),
        img_size=(16, 12), patch_size=4, out_type=out_type,
        pre_norm=pre_norm, **kw)
    with torch.no_grad():  # non-trivial embeddings and norms
        for name, p in m.named_parameters():
            if 'ln' in name or 'norm' in name or 'embed' in name \
                    or 'token' in name:
                p.add_(0.3 * torch.randn_like(p))
    return m.double()


class Classifier(nn.Module):

    def __init__(self, c=24, k=5, pool=False):
        super().__init__()
        torch.manual_seed(1)
        self.pool = nn.AdaptiveAvgPool2d(1) if pool else None
        self.fc = nn.Linear(c, k).double()

    def forward(self, feat, tape=None):
        if self.pool is not None:
            pooled = self.pool(feat)
            if tape is not None:
                tape.record(self.pool, feat, pooled, CLASSIFIER + 'pool')
            feat = pooled.flatten(1)
        z = self.fc(feat)
        if tape is not None:
            tape.record(self.fc, feat, z, CLASSIFIER + 'fc')
        return z


def lrp(model, head, x, **kw):
    with TapeRecorder(model) as rec:
        feat = model(x)[-1]
    head(feat, rec.tape)
    return LRPPropagator(1e-12, **kw).heatmaps(rec.tape), rec.tape


class Detached:
    """The oracle network: ``model`` with attention probabilities,
    LayerNorm's normalisation and GELU's gate detached (while in ``with``).
    """

    def __init__(self, model):
        self.model = model

    @staticmethod
    def ln(m, inputs, out):
        x = inputs[0]
        mu = x.mean(-1, keepdim=True)
        var = x.var(-1, unbiased=False, keepdim=True)
        return (x - mu) * torch.rsqrt(var + m.eps).detach() * m.weight \
            + m.bias

    @staticmethod
    def gelu(m, inputs, out):
        x = inputs[0]
        return x * (0.5 * (1 + torch.erf(x / math.sqrt(2)))).detach()

    @staticmethod
    def sdpa(q, k, v, attn_mask=None, dropout_p=0., **kw):
        p = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]),
                          -1)
        return p.detach() @ v

    def __enter__(self):
        self.handles, self.attn = [], []
        for m in self.model.modules():
            if isinstance(m, nn.LayerNorm):
                self.handles.append(m.register_forward_hook(self.ln))
            elif isinstance(m, nn.GELU):
                self.handles.append(m.register_forward_hook(self.gelu))
            elif hasattr(m, 'scaled_dot_product_attention'):
                self.attn.append((m, m.scaled_dot_product_attention))
                m.scaled_dot_product_attention = self.sdpa
        return self

    def __exit__(self, *exc):
        for h in self.handles:
            h.remove()
        for m, f in self.attn:
            m.scaled_dot_product_attention = f
        return False


def oracle(model, head, x, create_graph=False):
    x = x.clone().requires_grad_(True)
    with Detached(model):
        z = head(model(x)[-1])
    return gradient_x_input(z, x, create_graph)


@pytest.mark.parametrize('mode', ['eval', 'train'])
@pytest.mark.parametrize('out_type,pre_norm', [('cls_token', False),
                                               ('featmap', True)])
def test_vit_lrp0_equals_gradient_x_input_detached(mode, out_type,
                                                   pre_norm):
    # train mode with dropout and drop path active (the same random masks
    # in both passes: the decoder follows the recorded forward)
    drop = dict(drop_rate=0.3, drop_path_rate=0.5) if mode == 'train' \
        else {}
    model = vit(out_type, pre_norm, **drop)
    getattr(model, mode)()
    check_encoder(model)
    head = Classifier(pool=out_type == 'featmap')
    x = torch.randn(2, 3, 16, 12, dtype=torch.float64)
    torch.manual_seed(5)
    H, tape = lrp(model, head, x)
    torch.manual_seed(5)
    G = oracle(model, head, x)
    assert G.abs().max() > 1e-3  # not vacuous
    torch.testing.assert_close(H, G, **TOL)
    # the recorded values are the real forward's: detaching changes
    # gradients, not values
    torch.manual_seed(5)
    with Detached(model):
        torch.testing.assert_close(head(model(x)[-1]), tape.output(), **TOL)
    # class-batched == one class at a time
    each = torch.cat([
        LRPPropagator(1e-12).heatmaps(tape, torch.tensor([k]))
        for k in range(5)
    ], 1)
    torch.testing.assert_close(H, each, **TOL)


def test_vit_training_gradient_equals_double_backprop():
    model, head = vit(), Classifier()
    model.train()
    x = torch.randn(2, 3, 16, 12, dtype=torch.float64)
    c = torch.randn(2, 5, 16, 12, dtype=torch.float64)
    params = list(model.parameters()) + list(head.parameters())

    def grads(H):
        return torch.autograd.grad((H * c).sum(), params, allow_unused=True)

    got = grads(lrp(model, head, x)[0])
    want = grads(oracle(model, head, x, create_graph=True))
    names = [n for n, _ in model.named_parameters()] + ['fc.w', 'fc.b']
    moved = set()
    for n, g, w in zip(names, got, want):
        w = torch.zeros_like(g) if w is None else w
        g = torch.zeros_like(w) if g is None else g
        torch.testing.assert_close(g, w, rtol=1e-8, atol=1e-10,
                                   msg=lambda m: f'{n}: {m}')
        if w.abs().max() > 0:
            moved.add(n)
    # every weight of the value path gets a gradient (not vacuous); biases,
    # embeddings and the class token do not (they only shift z)
    assert {'patch_embed.projection.weight', 'layers.0.attn.qkv.weight',
            'layers.1.attn.proj.weight', 'layers.1.ffn.layers.1.weight',
            'layers.0.ln1.weight', 'ln1.weight', 'fc.w'} <= moved
    assert not {'pos_embed', 'cls_token', 'layers.0.attn.qkv.bias'} & moved


def test_vit_rules_and_checks():
    model = vit()
    targets = {n for n, _, _ in rule_targets(model)}
    assert {'layers.0.attn', 'pos_embed', 'output', 'layers.1.attn.qkv',
            'layers.0.ffn.layers.0.1'} <= targets
    # name rules reach the recorded operations and leaf layers
    head = Classifier()
    x = torch.randn(1, 3, 16, 12, dtype=torch.float64)
    H0, _ = lrp(model, head, x)
    H1, _ = lrp(model, head, x,
                rules=[dict(layers='layers.1.*', type='zplus')])
    assert (H1 - H0).abs().max() > 1e-6 * H0.abs().max()
    H2, _ = lrp(model, head, x,
                rules=[dict(layers='layers.*.attn', type='attn_lrp')])
    assert torch.isfinite(H2).all()
    assert (H2 - H0).abs().max() > 1e-6 * H0.abs().max()
    # build-time errors hold on the family's layer map and operations
    from mmseg_lrp.lrp import RuleMap
    targets = rule_targets(model)
    with pytest.raises(ValueError, match=r"'zplus' cannot decode.*"
                       r'layers.0.attn \(MultiheadAttention\).*rules that '
                       r'can: attention, attn_lrp'):
        RuleMap([dict(layers='layers.0.attn', type='zplus')]).check(targets)
    with pytest.raises(ValueError, match=r"'layer_norm' cannot decode.*"
                       r'pos_embed.*rules that can: epsilon, move'):
        RuleMap([dict(layers='pos_embed', type='layer_norm')]).check(
            targets)
    # operations that only move values keep their rule under catch-alls
    with TapeRecorder(model) as rec:
        model(x)
    by_name = {r.name: r for r in rec.tape.records()}
    eps = RuleMap([dict(layers='*', type='epsilon', epsilon=0.25)])
    assert type(eps.rule_for(by_name['output'])).__name__ == 'Move'
    assert eps.rule_for(by_name['pos_embed']).epsilon == 0.25
    with pytest.raises(ValueError, match="'epsilon' cannot decode.*output"):
        RuleMap([dict(layers='output', type='epsilon')]).check(targets)
    with pytest.raises(ValueError, match='matches no layer.*layers.1.attn'):
        RuleMap([dict(layers='layers.1.atn', type='attn_lrp')]).check(
            targets)
    for bad, msg in ((dict(out_type='avg_featmap'), 'out_type'),
                     (dict(out_indices=(0, )), 'out_indices'),
                     (dict(layer_cfgs=dict(attn_drop_rate=0.1)),
                      'attention dropout')):
        with pytest.raises(ValueError, match=msg):
            check_encoder(vit(**bad))


def test_attn_lrp_rule_against_its_definitions():
    """AttnLRP's attention rules, checked against their definitions
    computed another way: the softmax rule against the first-order Taylor
    relevance ``R_i = sum_j x_i (d s_j / d x_i) R_j / s_j`` from autograd's
    Jacobian; the bilinear products' uniform rule by conservation (every
    term's relevance is split between its two factors); and the whole
    attention core by the sums that must (and must not) hold."""
    from mmseg_lrp.lrp import LayerRecord, RuleContext, select_rows
    from mmseg_lrp.lrp.rules import AttnLRP
    model = vit()
    attn = model.layers[0].attn
    torch.manual_seed(3)
    n, L, C, K = 2, 5, 24, 3
    qkv = torch.randn(n, L, 3 * C, dtype=torch.float64)
    h, d = attn.num_heads, C // attn.num_heads
    q, k, v = qkv.reshape(n, L, 3, h, d).permute(2, 0, 3, 1, 4)
    S = q @ k.transpose(-2, -1) / math.sqrt(d)
    P = torch.softmax(S, -1)
    Ou = (P @ v).transpose(1, 2).reshape(n, L, C)
    R_O = torch.randn(K, n, L, C, dtype=torch.float64) * Ou
    ctx = RuleContext(1e-12, select_rows(), stabilizer='cutoff')
    R = AttnLRP()(LayerRecord(attn, qkv, Ou, "attn"), R_O, ctx)
    assert R.shape == (K, n, L, 3 * C)
    Rq, Rk, Rv = R.reshape(K, n, L, 3, h, d).unbind(3)
    # value path: half of every O term's relevance reaches v
    ro = R_O.reshape(K, n, L, h, d).transpose(2, 3)  # (K, n, h, L, d)
    terms = P[None, ..., None] * v[None, :, :, None] * (ro / (P @ v))[
        ..., None, :]  # (K, n, h, L, L', d): P_ij v_jd R_id / O_id
    torch.testing.assert_close(Rv.transpose(2, 3),
                               0.5 * terms.sum(3), **TOL)
    R_P = 0.5 * terms.sum(-1)
    # softmax: first-order Taylor relevance from the Jacobian
    x, s0 = S[0, 0, 1], P[0, 0, 1]
    J = torch.autograd.functional.jacobian(
        lambda t: torch.softmax(t, -1), x)  # J[j, i] = d s_j / d x_i
    want = (x[:, None] * J.T * (R_P[0, 0, 0, 1] / s0)[None, :]).sum(1)
    R_S = S * (R_P - P * R_P.sum(-1, keepdim=True))
    torch.testing.assert_close(R_S[0, 0, 0, 1], want, **TOL)
    # q k^T: the uniform rule conserves R_S between q and k
    torch.testing.assert_close(Rq.sum((2, 3, 4)), 0.5 * R_S.sum((2, 3, 4)),
                               **TOL)
    torch.testing.assert_close(Rk.sum((2, 3, 4)), 0.5 * R_S.sum((2, 3, 4)),
                               **TOL)
    # v and P share R_O; the softmax is not conservative
    torch.testing.assert_close(Rv.sum((2, 3, 4)) + R_P.sum((2, 3, 4)),
                               R_O.sum((2, 3)), **TOL)
    assert (R_S.sum() - R_P.sum()).abs() > 1e-6


def test_detach_bias_on_token_linear_layers():
    """The original code's detached bias works on linear layers over
    tokens (bias on the last dim): same heatmaps, different gradient."""
    model, head = vit(), Classifier()
    x = torch.randn(1, 3, 16, 12, dtype=torch.float64)
    H0, _ = lrp(model, head, x)
    H1, _ = lrp(model, head, x,
                rules=[dict(layers='layers.*', type='epsilon',
                            epsilon=1e-12, detach_bias=True)])
    torch.testing.assert_close(H1, H0, rtol=1e-8, atol=1e-10)
    # what it changes: the biases get the gradient H / z (the default's
    # exact z / z gives them none)
    bias = model.layers[1].ffn.layers[1].bias
    g0, g1 = (torch.autograd.grad(H.sum(), bias)[0] for H in (H0, H1))
    assert g0.abs().max() < 1e-10 < g1.abs().max()


def test_vit_memory_bounded_gradients_equal_one_pass():
    """Class chunks under checkpointing give the one-pass heatmaps and
    training gradients (the rules' autograd adjoints inside checkpointed
    regions included)."""
    model, head = vit(), Classifier()
    model.train()
    x = torch.randn(2, 3, 16, 12, dtype=torch.float64)
    c = torch.randn(2, 5, 16, 12, dtype=torch.float64)
    params = list(model.parameters())
    out = []
    for kw in ({}, dict(class_chunk=2, use_checkpoint=True)):
        with TapeRecorder(model) as rec:
            feat = model(x)[-1]
        head(feat, rec.tape)
        H = LRPPropagator(1e-12).heatmaps(rec.tape, **kw)
        g = torch.autograd.grad((H * c).sum(), params, allow_unused=True)
        out.append((H, g))
    torch.testing.assert_close(out[1][0], out[0][0], **TOL)
    for a, b in zip(out[1][1], out[0][1]):
        if b is None:
            assert a is None or not a.abs().max()
        else:
            torch.testing.assert_close(a, b, rtol=1e-8, atol=1e-10)
