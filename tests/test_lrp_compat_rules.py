"""Rule switches that reproduce the original code's decoder: each gives the
same values as the default where the original's values equal ours, and
each changes what it claims to change (so ignoring a switch fails here)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmseg_lrp.lrp import LayerRecord, LRPPropagator, RuleMap
from mmseg_lrp.lrp import functional as F_


def _rule(cfg, module, a, z, name='layer'):
    rec = LayerRecord(module, a, z, name)
    return RuleMap([dict(layers='*', **cfg)]).rule_for(rec), rec


def test_overwrite_unpooling_equals_max_unpool2d_on_cpu():
    """The ResNet stem's overlapping max pooling: shared argmaxes exist;
    overwrite == F.max_unpool2d, summing differs (and conserves)."""
    torch.manual_seed(0)
    pool = nn.MaxPool2d(3, 2, 1)
    a = torch.randn(2, 4, 16, 16, dtype=torch.float64)
    z, idx = F.max_pool2d(a, 3, 2, 1, return_indices=True)
    R = torch.randn((3, ) + z.shape, dtype=torch.float64)
    ctx = LRPPropagator(1e-9).context()
    rule, rec = _rule(dict(type='winner_takes_all', overwrite=True), pool, a,
                      z)
    out = rule(rec, R, ctx)
    for k in range(3):
        ref = F.max_unpool2d(R[k], idx, 3, 2, 1, output_size=a.shape[-2:])
        torch.testing.assert_close(out[k], ref)
    summed = F_.max_pool(pool, a, R)
    assert not torch.allclose(summed, out)  # shared argmaxes were present
    torch.testing.assert_close(summed.sum((2, 3, 4)), R.sum((2, 3, 4)))


def test_detach_bias_keeps_values_and_drops_the_bias_gradient():
    torch.manual_seed(0)
    for module in (nn.Conv2d(3, 4, 3, padding=1), nn.Linear(5, 4)):
        module = module.double()
        shape = (2, 3, 6, 6) if isinstance(module, nn.Conv2d) else (2, 5)
        a = torch.rand(shape, dtype=torch.float64)
        z = module(a)
        R = torch.randn((2, ) + z.shape, dtype=torch.float64)
        ctx = LRPPropagator(1e-9).context()
        outs, grads = [], []
        for detach in (False, True):
            rule, rec = _rule(dict(type='epsilon', detach_bias=detach),
                              module, a, z)
            out = rule(rec, R, ctx)
            (g, ) = torch.autograd.grad(out.sum(), module.bias,
                                        retain_graph=True)
            outs.append(out)
            grads.append(g)
        torch.testing.assert_close(outs[0], outs[1])
        assert grads[0].abs().sum() > 0 and grads[1].abs().sum() == 0


def test_detach_bn_factors_keeps_values_and_drops_their_gradient():
    torch.manual_seed(0)
    bn = nn.BatchNorm2d(3).double().train()
    with torch.no_grad():
        bn.weight.uniform_(0.5, 1.5)
    x = torch.randn(4, 3, 5, 5, dtype=torch.float64, requires_grad=True)
    y = bn(x)
    R = torch.randn((2, ) + y.shape, dtype=torch.float64,
                    requires_grad=True)
    ctx = LRPPropagator(1e-9).context()
    outs, grads = [], []
    for detach in (False, True):
        rule, rec = _rule(dict(type='batch_norm', detach_factors=detach), bn,
                          x, y)
        out = rule(rec, R, ctx)
        g = torch.autograd.grad(out.sum(), (bn.weight, x), retain_graph=True,
                                allow_unused=True)
        outs.append(out)
        grads.append([torch.zeros(()) if t is None else t for t in g])
    torch.testing.assert_close(outs[0], outs[1])
    for g_live, g_detached in zip(*grads):
        assert g_live.abs().sum() > 0 and g_detached.abs().sum() == 0


def _safe_divide(a, b):
    """The original code's safe_divide (network/xai/LRP_layers.py),
    restated from its definition."""
    den = b.clamp(min=1e-9) + b.clamp(max=1e-9)
    den = den + den.eq(0).to(den.dtype) * 1e-9
    return a / den * b.ne(0).to(b.dtype)


def test_shift_stabilizer_is_the_original_safe_divide():
    """stabilizer='shift' divides as the original's safe_divide(R, z + eps)
    — a positive shift whatever the sign of z — on an epsilon-rule layer,
    including units at and near z = -eps, where 'sign' (z + eps sign z) and
    'cutoff' differ from it by orders of magnitude."""
    eps = 1e-8
    lin = nn.Linear(3, 6, bias=False).double()
    a = torch.tensor([[1.0, 0.0, 0.0]], dtype=torch.float64)
    # z = W a = the first weight column: put units at -eps, near -eps, at
    # 0, and far from 0 on both sides
    col = torch.tensor([-eps, -2 * eps, 0.0, -0.5 * eps, 2.0, -3.0],
                       dtype=torch.float64)
    with torch.no_grad():
        lin.weight.copy_(torch.randn(6, 3, dtype=torch.float64))
        lin.weight[:, 0] = col
    z = lin(a)
    R = torch.randn((2, ) + z.shape, dtype=torch.float64)
    outs = {}
    for how in ('shift', 'sign', 'cutoff'):
        ctx = LRPPropagator(eps, stabilizer=how).context()
        rule, rec = _rule(dict(type='epsilon'), lin, a, z)
        outs[how] = rule(rec, R, ctx)
    ref = a * (_safe_divide(R, z + eps) @ lin.weight)
    torch.testing.assert_close(outs['shift'], ref, rtol=1e-12, atol=0)
    for other in ('sign', 'cutoff'):  # ignoring the switch shows here
        assert (outs[other] - ref).abs().max() > 0.1 * ref.abs().max(), \
            other


def test_paper_compat_configs_use_the_shift_stabilizer():
    import os.path as osp
    from mmengine.config import Config
    root = osp.dirname(osp.dirname(osp.abspath(__file__)))
    for name in ('unrolled-lrp_vgg16_paper-compat.py',
                 'unrolled-lrp_r50_paper-compat.py'):
        cfg = Config.fromfile(osp.join(root, 'configs', '_base_', 'models',
                                       name))
        assert cfg.model.decode_head.stabilizer == 'shift', name
