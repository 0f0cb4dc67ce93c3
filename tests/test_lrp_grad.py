"""The weight gradient of the segmentation loss, against an independent
oracle: the double-backprop gradient of gradient x input heatmaps (LRP-0's
values for ReLU networks), in float64, and under autocast (AMP).

On the CPU by default; ``MMSEG_LRP_TEST_DEVICE=cuda`` runs the same checks on
a GPU (tools/gpu/check.sh does).
"""
import copy
import os

import pytest
import torch
import torch.nn.functional as F

from mmseg_lrp.lrp import LRPPropagator
from test_lrp_model import batch, build, oracle_heatmaps

DEVICE = os.environ.get('MMSEG_LRP_TEST_DEVICE', 'cpu')
OVERRIDES = {
    'unrolled-lrp_vgg16.py': {},
    # with the zero-initialised last BN of each block, every main branch
    # outputs 0 at init: not what a trained network decodes
    'unrolled-lrp_r50.py': dict(backbone=dict(zero_init_residual=False)),
}


def _grads(model, loss):
    model.zero_grad()
    loss.backward()
    return {n: p.grad.detach().double().clone()
            for n, p in model.named_parameters() if p.grad is not None}


def seg_loss_grads(model, x, labels):
    """Gradients of the cross-entropy of the decoder's heatmaps."""
    H = model.decode_head.decode(model.extract_feat(x))
    return _grads(model, F.cross_entropy(H, labels, ignore_index=255))


def oracle_grads(model, x, labels):
    """The same loss on gradient x input heatmaps, by double backprop."""
    H = oracle_heatmaps(model, x, create_graph=True).to(x.dtype)
    return _grads(model, F.cross_entropy(H, labels, ignore_index=255))


def rel_err(g, ref):
    num = sum(((g[n] - ref[n])**2).sum() for n in ref)
    return float((num / sum((r**2).sum() for r in ref.values())).sqrt())


@pytest.fixture(scope='module', params=list(OVERRIDES))
def setup(request):
    """An eval-mode model (BN as the affine map both sides differentiate),
    a batch, and the float64 oracle gradients."""
    model = build(request.param, **OVERRIDES[request.param]).eval()
    x, samples = batch(2, labelled=(0, 1), size=(32, 32))
    labels = torch.cat([s.gt_sem_seg.data for s in samples]).to(DEVICE)
    model, x = model.to(DEVICE), x.to(DEVICE)
    return model, x, labels, oracle_grads(model, x, labels)


def test_seg_gradient_equals_gradient_x_input_gradient(setup):
    model, x, labels, ref = setup
    assert rel_err(seg_loss_grads(model, x, labels), ref) < 1e-8
    # the 'sign' stabilizer (z + eps sign z) gives the same heatmaps, but
    # its gradient is dominated by eps / (z + eps)^2 spikes at units near 0
    sign = copy.deepcopy(model)
    sign.decode_head.propagator = LRPPropagator(1e-8, stabilizer='sign')
    assert rel_err(seg_loss_grads(sign, x, labels), ref) > 10


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
def test_seg_gradient_under_autocast_as_accurate_as_the_oracle(
        setup, dtype):
    """Under autocast, the decoder's gradient is no further from the
    float64 gradient than double backprop's under the same autocast."""
    model, x, labels, ref = setup
    m32, x = copy.deepcopy(model).float(), x.float()
    with torch.autocast(DEVICE, dtype=dtype):
        feats = m32.extract_feat(x)
        lrp = seg_loss_grads(m32, x, labels)
        oracle = oracle_grads(m32, x, labels)
    # the tape is float32 although the convolutions ran in half precision
    assert feats.tape[0].output.dtype == torch.float32
    err, err_oracle = rel_err(lrp, ref), rel_err(oracle, ref)
    assert 0 < err <= 1.2 * err_oracle + 1e-3, (err, err_oracle)


def test_stabilizer_is_checked():
    with pytest.raises(ValueError, match='stabilizer'):
        LRPPropagator(1e-8, stabilizer='clamp')
    with pytest.raises(ValueError, match='stabilizer'):
        build(decode_head=dict(stabilizer='clamp'))
