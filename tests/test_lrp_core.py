"""The LRP core against independent oracles.

With ReLU networks and epsilon -> 0, LRP-0 heatmaps equal gradient x input
(summed over channels) from torch.autograd, for every backbone. In train
mode BN uses this batch's statistics; the LRP rule treats them as constants,
so the oracle is an eval-mode copy whose running statistics are set to the
batch statistics (captured by plain hooks, independently of the tape).
"""
import copy

import pytest
import torch
import torch.nn as nn
from mmpretrain.models.backbones import VGG, ResNet, ResNet_CIFAR
from torch.nn.modules.batchnorm import _BatchNorm

from conftest import gradient_x_input
from mmseg_lrp.lrp import LRPPropagator, TapeRecorder, select_rows
from mmseg_lrp.lrp import functional as R_
from mmseg_lrp.lrp import rules

TOL = 1e-5  # max relative error (max |diff| / max |oracle|)


def no_inplace(module):
    for m in module.modules():
        if hasattr(m, 'inplace'):
            m.inplace = False
    return module


def make_backbone(name):
    torch.manual_seed(0)
    if name == 'vgg16':
        bb = VGG(16, act_cfg=dict(type='ReLU', inplace=False))
    elif name == 'vgg16_bn':
        bb = VGG(16, norm_cfg=dict(type='BN'),
                 act_cfg=dict(type='ReLU', inplace=False))
    elif name == 'resnet50':
        bb = no_inplace(ResNet(50))
    elif name == 'resnet18_cifar':  # the toy encoder: 3x3 stem, no max pool
        bb = no_inplace(ResNet_CIFAR(18, stem_channels=8, base_channels=8,
                                     strides=(2, 2, 2, 2)))
    else:
        raise ValueError(name)
    bb = bb.double()
    # random, non-trivial BN parameters and running statistics
    for m in bb.modules():
        if isinstance(m, _BatchNorm):
            nn.init.uniform_(m.weight, 0.5, 1.5)
            nn.init.uniform_(m.bias, -0.2, 0.2)
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
    return bb


class Classifier(nn.Module):
    """backbone -> global average pool -> linear."""

    def __init__(self, backbone, num_classes):
        super().__init__()
        self.backbone = backbone
        self.pool = nn.AdaptiveAvgPool2d(1)
        was_training = backbone.training
        backbone.eval()
        with torch.no_grad():
            c = backbone(torch.zeros(1, 3, 32, 32,
                                     dtype=torch.float64))[-1].shape[1]
        backbone.train(was_training)
        self.fc = nn.Linear(c, num_classes).double()

    def forward(self, x):
        return self.fc(self.pool(self.backbone(x)[-1]).flatten(1))


def lrp_heatmaps(model, x, epsilon=1e-12, index=None, **kwargs):
    """Heatmaps from a tape of the backbone plus the classifier (pool, fc)
    recorded on it."""
    with TapeRecorder(model.backbone) as rec:
        feat = model.backbone(x)[-1]
    tape = rec.tape
    pooled = tape.record(model.pool, feat, model.pool(feat),
                         'classifier.pool')
    logits = tape.record(model.fc, pooled.flatten(1),
                         model.fc(pooled.flatten(1)), 'classifier.fc')
    prop = LRPPropagator(epsilon=epsilon)
    return prop.heatmaps(tape, select=select_rows(index), **kwargs), logits


def grad_x_input(model, x):
    """Oracle: sum_c x * dz_k/dx for every class k, (N, K, H, W)."""
    x = x.detach().clone().requires_grad_(True)
    return gradient_x_input(model(x), x)


def frozen_batch_stats_copy(model, x):
    """Eval-mode copy whose BN running stats are this batch's statistics."""
    stats = {}
    hooks = [
        m.register_forward_hook(
            lambda mod, inp, out, name=name: stats.__setitem__(
                name, (inp[0].mean((0, 2, 3)),
                       inp[0].var((0, 2, 3), unbiased=False))))
        for name, m in model.named_modules() if isinstance(m, _BatchNorm)
    ]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    frozen = copy.deepcopy(model).eval()
    for name, m in frozen.named_modules():
        if isinstance(m, _BatchNorm):
            m.running_mean.copy_(stats[name][0])
            m.running_var.copy_(stats[name][1])
    return frozen


def rel_err(a, b):
    return ((a - b).abs().max() / b.abs().max()).item()


@pytest.mark.parametrize('mode', ['eval', 'train'])
@pytest.mark.parametrize('name,shape,num_classes', [
    ('vgg16', (2, 3, 32, 64), 5),
    ('vgg16_bn', (2, 3, 64, 32), 7),
    ('resnet50', (2, 3, 64, 96), 21),
    ('resnet18_cifar', (2, 3, 32, 48), 7),
])
def test_lrp0_equals_gradient_x_input(name, shape, num_classes, mode):
    model = Classifier(make_backbone(name), num_classes)
    model.train(mode == 'train')
    torch.manual_seed(1)
    x = torch.randn(shape, dtype=torch.float64)
    H, logits = lrp_heatmaps(model, x)
    assert H.shape == (shape[0], num_classes) + shape[2:]
    oracle_model = model if mode == 'eval' else frozen_batch_stats_copy(
        model, x)
    oracle = grad_x_input(oracle_model, x)
    # the frozen copy computes the same logits as the train-mode forward
    torch.testing.assert_close(oracle_model(x), logits)
    assert rel_err(H, oracle) < TOL


def test_batch_size_one_and_non_square():
    model = Classifier(make_backbone('vgg16'), 3).eval()
    x = torch.randn(1, 3, 96, 32, dtype=torch.float64)
    H, _ = lrp_heatmaps(model, x)
    assert H.shape == (1, 3, 96, 32)
    assert rel_err(H, grad_x_input(model, x)) < TOL


def test_class_batched_equals_per_class_loop():
    """One pass for all classes == decoding one class at a time."""
    model = Classifier(make_backbone('resnet50'), 6).eval()
    x = torch.randn(2, 3, 64, 64, dtype=torch.float64)
    H, _ = lrp_heatmaps(model, x, epsilon=1e-8)
    H1, _ = lrp_heatmaps(model, x, epsilon=1e-8, class_chunk=1)
    H4, _ = lrp_heatmaps(model, x, epsilon=1e-8, class_chunk=4)
    torch.testing.assert_close(H1, H, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(H4, H, rtol=1e-10, atol=1e-12)


def test_sample_index_decodes_only_those_samples():
    """Decoding a subset equals slicing the full decode, BN batch
    statistics (train mode) still from the whole batch."""
    model = Classifier(make_backbone('vgg16_bn'), 4)
    model.train()
    x = torch.randn(4, 3, 32, 32, dtype=torch.float64)
    H, _ = lrp_heatmaps(model, x, epsilon=1e-8)
    idx = torch.tensor([3, 1])
    Hs, _ = lrp_heatmaps(model, x, epsilon=1e-8, index=idx)
    torch.testing.assert_close(Hs, H[idx], rtol=1e-10, atol=1e-12)


def _param_grads(model, x, **kwargs):
    model.zero_grad()
    H, _ = lrp_heatmaps(model, x, epsilon=1e-8, **kwargs)
    target = torch.arange(H.shape[1]).view(1, -1, 1, 1) % 3
    loss = (H.log_softmax(1) * 0 + H * (target == 1)).sum() + H.pow(
        2).mean()
    loss.backward()
    return {n: p.grad.clone() for n, p in model.named_parameters()
            if p.grad is not None}


def test_memory_bounded_gradients_equal_one_shot():
    """Class chunks under activation checkpointing, one backward, give the
    gradients of the one-shot decode."""
    model = Classifier(make_backbone('resnet50'), 5)
    model.train()
    x = torch.randn(2, 3, 64, 64, dtype=torch.float64)
    g_one = _param_grads(model, x)
    g_cp = _param_grads(model, x, class_chunk=2, use_checkpoint=True)
    assert g_one.keys() == g_cp.keys() and len(g_one) > 100
    # a floor for parameters whose gradient is 0 but for rounding (e.g. the
    # zero-initialised last BN of each block)
    floor = 1e-9 * max(float(g.abs().max()) for g in g_one.values())
    for n in g_one:
        denom = g_one[n].abs().max().clamp(min=floor)
        assert ((g_cp[n] - g_one[n]).abs().max() / denom) < 1e-5, n


def test_tied_decoder_puts_gradients_on_encoder_weights():
    model = Classifier(make_backbone('vgg16'), 3)
    model.train()
    x = torch.randn(1, 3, 32, 32, dtype=torch.float64)
    grads = _param_grads(model, x)
    conv_weights = [n for n, _ in model.backbone.named_parameters()
                    if n.endswith('conv.weight')]
    assert conv_weights
    for n in conv_weights:
        assert grads[f'backbone.{n}'].abs().sum() > 0, n


def test_bn_running_stats_updated_once_per_forward():
    model = Classifier(make_backbone('resnet50'), 3)
    model.train()
    bns = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    before = [m.num_batches_tracked.item() for m in bns]
    means = [m.running_mean.clone() for m in bns]
    x = torch.randn(2, 3, 64, 64, dtype=torch.float64)
    H, _ = lrp_heatmaps(model, x, class_chunk=1, use_checkpoint=True)
    H.sum().backward()  # the checkpointed chunks are recomputed here
    assert [m.num_batches_tracked.item() for m in bns] == [
        b + 1 for b in before
    ]
    # and the stored statistics moved exactly as one plain forward moves them
    ref = copy.deepcopy(model)
    for m, mean in zip([m for m in ref.modules()
                        if isinstance(m, _BatchNorm)], means):
        m.running_mean.copy_(mean)
        m.num_batches_tracked.sub_(1)
    with torch.no_grad():
        ref(x)
    for m, r in zip(bns, [m for m in ref.modules()
                          if isinstance(m, _BatchNorm)]):
        torch.testing.assert_close(m.running_mean, r.running_mean)


@pytest.mark.parametrize('kernel,stride,padding,ceil', [(3, 1, 1, False),
                                                        (3, 2, 0, True),
                                                        (2, 2, 0, False)])
def test_max_pool_sums_shared_argmax(kernel, stride, padding, ceil):
    """Overlapping windows that share an argmax: contributions add up, as
    in the gradient (the original code overwrote them)."""
    torch.manual_seed(0)
    pool = nn.MaxPool2d(kernel, stride, padding, ceil_mode=ceil)
    a = torch.rand(2, 3, 7, 9, dtype=torch.float64, requires_grad=True)
    R = torch.randn((4, ) + pool(a).shape, dtype=torch.float64)
    out = R_.max_pool(pool, a.detach(), R)
    for k in range(4):
        (g, ) = torch.autograd.grad(pool(a), a, R[k])
        torch.testing.assert_close(out[k], g)


def apply_rule(rule, module, a, z, R, eps=1e-12, weights=None):
    """One rule object on one layer record, as the propagator calls it
    ('sign' stabilizer, all samples)."""
    from mmseg_lrp.lrp import LayerRecord, RuleContext
    ctx = RuleContext(eps, select_rows(), weights, 'sign')
    return rule(LayerRecord(module, a, z, 'x'), R, ctx)


@pytest.mark.parametrize('stride,padding,dilation,groups,size', [
    (1, 1, 1, 1, (9, 9)), (2, 1, 1, 1, (10, 7)), (2, 0, 2, 2, (11, 12)),
    (3, 2, 1, 1, (8, 13))
])
def test_conv_rule_equals_gradient_x_input(stride, padding, dilation,
                                           groups, size):
    """Single layer: a * W^T(R / z) == a * d(R/z . z)/da (z linear in a),
    for odd sizes where the transposed conv needs output padding."""
    torch.manual_seed(0)
    conv = nn.Conv2d(4, 6, 3, stride, padding, dilation, groups).double()
    a = torch.rand((2, 4) + size, dtype=torch.float64, requires_grad=True)
    z = conv(a)
    R = torch.randn((3, ) + z.shape, dtype=torch.float64)
    out = apply_rule(rules.Epsilon(), conv, a.detach(), z.detach(), R)
    for k in range(3):
        s = R[k] / z.detach()
        (g, ) = torch.autograd.grad(z, a, s, retain_graph=True)
        torch.testing.assert_close(out[k], a.detach() * g)


@pytest.mark.parametrize('pool,size', [
    (nn.AvgPool2d(3, 2, 1), (9, 8)),  # overlapping, padded: VJP path
    (nn.AvgPool2d(2, ceil_mode=True, count_include_pad=False), (8, 6)),
    (nn.AdaptiveAvgPool2d(1), (7, 5)),  # global average pooling
    (nn.AdaptiveAvgPool2d((2, 3)), (8, 9)),  # tiles
    (nn.AdaptiveAvgPool2d((3, 2)), (7, 5)),  # uneven: VJP path
])
def test_avg_pool_rule_equals_gradient_x_input(pool, size):
    torch.manual_seed(0)
    a = torch.rand((2, 3) + size, dtype=torch.float64, requires_grad=True)
    z = pool(a)
    R = torch.randn((2, ) + z.shape, dtype=torch.float64)
    out = R_.avg_pool(pool, a.detach(), z.detach(), R, 1e-12)
    for k in range(2):
        (g, ) = torch.autograd.grad(z, a, R[k] / z.detach(),
                                    retain_graph=True)
        torch.testing.assert_close(out[k], a.detach() * g)


def test_zplus_rule_is_conservative_and_positive():
    """z+ on non-negative inputs: relevance is conserved (no bias share)
    and keeps the sign of R at each output."""
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 5, 3, 1, 1, bias=False).double()
    a = torch.rand(2, 3, 8, 8, dtype=torch.float64)
    R = torch.rand((1, 2, 5, 8, 8), dtype=torch.float64)
    out = apply_rule(rules.ZPlus(), conv, a, conv(a), R)
    assert (out >= 0).all()
    torch.testing.assert_close(out.sum((2, 3, 4)), R.sum((2, 3, 4)))


def test_tape_leaves_no_hooks_and_no_state():
    bb = make_backbone('resnet50')
    bb.eval()
    n_hooks = sum(len(m._forward_hooks) + len(m._forward_pre_hooks)
                  for m in bb.modules())
    with TapeRecorder(bb) as rec:
        bb(torch.zeros(1, 3, 32, 32, dtype=torch.float64))
    assert rec.tape
    assert sum(len(m._forward_hooks) + len(m._forward_pre_hooks)
               for m in bb.modules()) == n_hooks


def test_zplus_skips_the_empty_negative_part_exactly():
    """For a non-negative input (after a ReLU) the z+ rule leaves out the
    a- terms; values and gradients equal the full formula's."""
    torch.manual_seed(0)
    conv = nn.Conv2d(4, 6, 3, padding=1).double()
    a = torch.rand(2, 4, 8, 8, dtype=torch.float64)
    R = torch.randn(3, 2, 6, 8, 8, dtype=torch.float64)
    w = conv.weight.detach().clone().requires_grad_(True)
    out = apply_rule(rules.ZPlus(), conv, a, conv(a), R, eps=1e-9,
                     weights={'x': w})
    (g, ) = torch.autograd.grad(out.sum(), w)
    # the full formula, negative parts included (all zero here)
    w2 = conv.weight.detach().clone().requires_grad_(True)
    ap, an = a.clamp(min=0), a.clamp(max=0)
    wp, wn = w2.clamp(min=0), w2.clamp(max=0)
    z = (R_.conv(conv, ap, wp) + R_.conv(conv, an, wn))
    s = R / R_.stabilize(z, 1e-9)
    full = (ap * R_.conv_transpose(s, wp, conv, a.shape) +
            an * R_.conv_transpose(s, wn, conv, a.shape))
    (g2, ) = torch.autograd.grad(full.sum(), w2)
    torch.testing.assert_close(out, full)
    torch.testing.assert_close(g, g2)
