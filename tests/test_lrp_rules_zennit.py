"""z+ and alpha-beta rules against zennit, an independent LRP library.

The gradient x input identity holds only for LRP-0; for the other rules
zennit is the oracle. Conventions aligned: zennit's attribution is the
modified gradient with ``grad_outputs`` taken as the output relevance, so it
gets ``z_k e_k`` like our start; ReLU and max pooling keep their (masking /
winner-take-all) gradients there, which equals our pass-through because the
relevance at a ReLU output is zero wherever the ReLU is.
"""
import pytest
import torch
import torch.nn as nn

from mmseg_lrp.lrp import LRPPropagator, TapeRecorder

zennit = pytest.importorskip('zennit')
from zennit.core import Composite  # noqa: E402
from zennit.rules import AlphaBeta, Epsilon, Norm, ZPlus  # noqa: E402

EPS = 1e-9


def make_net():
    torch.manual_seed(0)
    enc = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1, bias=False), nn.ReLU(),
        nn.Conv2d(16, 16, 3, stride=2, padding=1, bias=False), nn.ReLU(),
        nn.AvgPool2d(2), nn.Conv2d(16, 12, 1, bias=False), nn.ReLU())
    return enc.double(), nn.AdaptiveAvgPool2d(1), nn.Linear(12, 4).double()


def ours(enc, pool, fc, x, conv_rules):
    with TapeRecorder(enc) as rec:
        feat = enc(x)
    pooled = rec.tape.record(pool, feat, pool(feat), 'classifier.pool')
    rec.tape.record(fc, pooled.flatten(1), fc(pooled.flatten(1)),
                    'classifier.fc')
    return LRPPropagator(EPS, conv_rules).heatmaps(rec.tape)


def theirs(enc, pool, fc, x, rule_for_conv):
    model = nn.Sequential(enc, pool, nn.Flatten(), fc)
    names = {id(m): f'{n}' for n, m in enc.named_modules()}

    def module_map(ctx, name, module):
        if isinstance(module, nn.Conv2d):
            return rule_for_conv(names[id(module)])
        if isinstance(module, nn.Linear):
            return Epsilon(epsilon=EPS)
        if isinstance(module, (nn.AvgPool2d, nn.AdaptiveAvgPool2d)):
            return Norm(stabilizer=EPS)
        return None

    maps = []
    with Composite(module_map=module_map).context(model) as m:
        for k in range(4):
            xi = x.clone().requires_grad_(True)
            z = m(xi)
            R = torch.zeros_like(z)
            R[:, k] = z[:, k].detach()
            (g, ) = torch.autograd.grad(z, xi, R)
            maps.append(g.sum(1))
    return torch.stack(maps, 1)


@pytest.mark.parametrize('later_rule,ours_cfg', [
    (lambda: ZPlus(stabilizer=EPS), dict(type='zplus')),
    (lambda: AlphaBeta(alpha=2., beta=1., stabilizer=EPS),
     dict(type='alpha_beta', alpha=2., beta=1.)),
])
def test_rules_match_zennit(later_rule, ours_cfg):
    enc, pool, fc = make_net()
    x = torch.randn(2, 3, 16, 20, dtype=torch.float64)
    # first conv (signed pixel input): epsilon; later convs: z+ / alpha-beta
    rules = [dict(layers='0', type='epsilon'), dict(layers='*', **ours_cfg)]
    H = ours(enc, pool, fc, x, rules)
    ref = theirs(enc, pool, fc, x,
                 lambda name: Epsilon(epsilon=EPS)
                 if name == '0' else later_rule())
    assert ((H - ref).abs().max() / ref.abs().max()) < 1e-6
    # and the rules matter: LRP-epsilon everywhere gives other heatmaps
    H_eps = ours(enc, pool, fc, x, [])
    assert ((H_eps - ref).abs().max() / ref.abs().max()) > 1e-2


def test_zplus_everywhere_matches_zennit_on_signed_input():
    """z+ on every conv, the first one included (signed pixel input: its
    a+ W+ + a- W- form), as the toy configs use it. Bias-free first conv,
    as in the toy ResNets (BN follows every conv): zennit's ZPlus splits a
    bias into both terms, the z+ rule here leaves biases out."""
    enc, pool, fc = make_net()
    enc[0].bias = None
    x = torch.randn(2, 3, 16, 20, dtype=torch.float64)
    H = ours(enc, pool, fc, x, [dict(layers='*', type='zplus')])
    ref = theirs(enc, pool, fc, x, lambda name: ZPlus(stabilizer=EPS))
    assert ((H - ref).abs().max() / ref.abs().max()) < 1e-6
