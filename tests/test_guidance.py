"""The tools of the guidance diagnosis: the heatmap AUROC metric, the CAM
head, the frozen no-guidance reference and the per-layer loss gradients,
each against an independent oracle."""
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.structures import PixelData

import mmseg_lrp.plugin  # noqa: F401
from conftest import ROOT
from mmseg_lrp.evaluation import HeatmapAUROCMetric, auroc

TOY_DIR = osp.join(ROOT, 'configs', 'toy_experiment')
LRP = osp.join(TOY_DIR,
               'unrolled-lrp_r18-cifar-c16_1xb8-300iter_toyvoc-semi-64x64.py')
FROZEN = osp.join(
    TOY_DIR,
    'unrolled-lrp-frozen_r18-cifar-c16_1xb8-300iter_toyvoc-semi-64x64.py')
CAM = osp.join(TOY_DIR,
               'cam-frozen_r18-cifar-c16_1xb8-300iter_toyvoc-semi-64x64.py')


def test_auroc_matches_scikit_learn():
    from sklearn.metrics import roc_auc_score
    rng = np.random.default_rng(0)
    pos = np.round(rng.normal(1, 1, 300), 1)  # rounded: many ties
    neg = np.round(rng.normal(0, 1, 500), 1)
    want = roc_auc_score(np.r_[np.ones(300), np.zeros(500)], np.r_[pos, neg])
    got = auroc(torch.from_numpy(pos), torch.from_numpy(neg))
    assert got == pytest.approx(want, abs=1e-12)
    assert auroc(torch.ones(3), torch.zeros(2)) == 1.0
    assert auroc(torch.zeros(3), torch.zeros(2)) == 0.5
    with pytest.raises(ValueError, match='positive and one negative'):
        auroc(torch.ones(3), torch.zeros(0))


def _sample(logits, label):
    return dict(seg_logits=PixelData(data=logits).to_dict(),
                gt_sem_seg=PixelData(data=label[None]).to_dict())


def test_heatmap_auroc_metric_per_image_and_class():
    """Per image and class: own pixels vs that image's background; ignore
    and other classes' pixels left out; a per-class offset and scale and a
    per-image shift change nothing."""
    from sklearn.metrics import roc_auc_score
    g = torch.Generator().manual_seed(0)
    label = torch.zeros(8, 8, dtype=torch.long)
    label[:4, :4] = 1
    label[4:, 4:] = 2
    label[0, :] = 255
    logits = torch.randn(3, 8, 8, generator=g)
    logits[1, :4, :4] += 1.0
    metric = HeatmapAUROCMetric()
    metric.dataset_meta = dict(classes=('background', 'a', 'b'))
    metric.process(None, [_sample(logits, label)])
    bg = (label == 0)
    want = {}
    for k in (1, 2):
        own = label == k
        y = np.r_[np.ones(int(own.sum())), np.zeros(int(bg.sum()))]
        s = np.r_[logits[k][own].numpy(), logits[k][bg].numpy()]
        want[k] = 100 * roc_auc_score(y, s)
    out = metric.compute_metrics(metric.results)
    # class a against the pixels of b (the other object), and b against a
    vs = []
    for k, j in ((1, 2), (2, 1)):
        own, other = label == k, label == j
        y = np.r_[np.ones(int(own.sum())), np.zeros(int(other.sum()))]
        s = np.r_[logits[k][own].numpy(), logits[k][other].numpy()]
        vs.append(100 * roc_auc_score(y, s))
    assert out['objects'] == pytest.approx(sum(vs) / 2)
    assert out['a'] == pytest.approx(want[1])
    assert out['b'] == pytest.approx(want[2])
    assert out['mean'] == pytest.approx((want[1] + want[2]) / 2)
    moved = HeatmapAUROCMetric()
    moved.dataset_meta = metric.dataset_meta
    shifted = logits * torch.tensor([1., 3., .5])[:, None, None] + 7.0
    moved.process(None, [_sample(shifted, label)])
    assert moved.compute_metrics(moved.results) == pytest.approx(out)
    with pytest.raises(ValueError, match='differ in size'):
        metric.process(None, [_sample(logits[:, :4], label)])


def _toy_model(path, **head):
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    cfg = Config.fromfile(path)
    cfg.model.decode_head.update(head)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def test_cam_head_maps_average_to_the_logits():
    """A CAM's mean over the input equals the classifier's logit (global
    pooling and the linear layer commute; bilinear upsampling by an
    integer factor keeps the mean), and the bias shifts every pixel."""
    model = _toy_model(CAM).eval()
    x = torch.randn(2, 3, 64, 64, dtype=torch.float64)
    model.double()
    with torch.no_grad():
        feats = model.extract_feat(x)
        logits = model.decode_head.classify(feats)
        cams = model.decode_head.decode(feats)
        model.decode_head.heatmap_bias.fill_(0.25)
        shifted = model.decode_head.decode(feats, index=torch.tensor([1]))
    assert cams.shape == (2, 7, 64, 64)
    assert torch.allclose(cams.mean((2, 3)), logits, atol=1e-10)
    assert torch.allclose(shifted, cams[1:] + 0.25, atol=1e-10)
    with pytest.raises(ValueError, match='pixels'):
        _toy_model(CAM, heatmap_scale='pixels')


def _train_steps(path, root, steps):
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    cfg = Config.fromfile(path)
    train = cfg.train_dataloader
    for ds in train.dataset.datasets:
        ds.data_root = root
    train.dataset.pixel_split = 'ImageSets/SemiSeg/paper_6_seed0.txt'
    train.update(batch_size=4, num_workers=0, persistent_workers=False)
    train.batch_sampler.num_pixel_labelled = 2
    torch.manual_seed(0)
    data = next(iter(Runner.build_dataloader(train, seed=0)))
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    for _ in range(steps):
        model.train_step(data, optim)
    return model, before, data


@pytest.mark.parametrize('path', [FROZEN, CAM], ids=['lrp', 'cam'])
def test_frozen_references_fit_only_the_bias(toy_semi, path):
    """The no-guidance references move the heatmap bias and nothing else:
    no weight, no BN running statistic."""
    model, before, _ = _train_steps(path, toy_semi, 3)
    after = model.state_dict()
    changed = sorted(k for k in before
                     if not torch.equal(before[k], after[k]))
    assert changed == ['decode_head.heatmap_bias']


def test_frozen_head_fits_the_bias_on_the_trained_heads_heatmaps(toy_semi):
    """decode_head.frozen: the same heatmaps as the trainable head with the
    same weights (the oracle), no autograd graph through the decoder, and
    after a backward pass a gradient on the heatmap bias alone."""
    model, _, data = _train_steps(FROZEN, toy_semi, 0)
    head = model.decode_head
    assert head.frozen
    batch = model.data_preprocessor(data, True)
    feats = model.extract_feat(batch['inputs'])
    heat = head.decode(feats)
    head.frozen = False  # the same weights, decoded with autograd
    trained = head.decode(model.extract_feat(batch['inputs']))
    head.frozen = True
    assert trained.grad_fn is not None
    assert torch.allclose(heat, trained, rtol=1e-5, atol=1e-5)
    # without the bias nothing of the heatmaps is in a graph
    head.heatmap_bias.requires_grad_(False)
    assert not head.decode(feats).requires_grad
    head.heatmap_bias.requires_grad_(True)
    losses = model.loss(batch['inputs'], batch['data_samples'])
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    got = sorted(n for n, p in model.named_parameters() if p.grad is not None)
    assert got == ['decode_head.heatmap_bias']
    with pytest.raises(ValueError, match='heatmap_bias=True'):
        _toy_model(FROZEN, heatmap_bias=False)


def test_loss_gradients_against_the_analytic_bias_gradient(toy_semi):
    """The seg loss's gradient on the heatmap bias is the mean over
    labelled pixels of softmax - one-hot (cross-entropy's analytic
    gradient); the classification loss does not reach the bias; both reach
    the encoder."""
    from mmseg_lrp.analysis import format_gradients, loss_gradients
    model, _, data = _train_steps(LRP, toy_semi, 0)
    table = loss_gradients(model, [data])
    # the oracle, from the heatmaps themselves
    batch = model.data_preprocessor(data, True)
    feats = model.extract_feat(batch['inputs'])
    head = model.decode_head
    labels = head._stack_batch_gt(batch['data_samples']).squeeze(1)
    has = torch.tensor([s.metainfo['has_pixel_label']
                        for s in batch['data_samples']])
    index = has.nonzero().flatten()
    with torch.no_grad():
        heat = head.decode(feats, index)
    lab = labels[index]
    valid = lab != 255
    prob = F.softmax(heat, 1).permute(0, 2, 3, 1)[valid]
    onehot = F.one_hot(lab[valid].long(), heat.shape[1]).to(prob.dtype)
    want = (prob - onehot).mean(0).norm().item()
    assert table['heatmap_bias']['loss_seg'] == pytest.approx(want, rel=1e-4)
    assert table['heatmap_bias']['loss_cls'] == 0
    for g in ('stage 1', 'stage 4', 'classifier'):
        assert table[g]['loss_seg'] > 0 and table[g]['loss_cls'] > 0
    text = format_gradients(table)
    assert '| heatmap_bias |' in text and '| stage 4 |' in text


def test_threshold_ious_separate_ranking_from_scale():
    """Two images whose maps rank perfectly but differ 10x in scale: the
    per-image oracle is exact, one threshold per class is not; the own
    prediction is scored as given."""
    from mmseg_lrp.analysis import threshold_ious
    gt = np.zeros((8, 8), bool)
    gt[2:5, 2:5] = True
    # a map that ranks the object above the background, with a gradient
    base = np.where(gt, 2.0, 1.0) + np.linspace(0, 0.5, 64).reshape(8, 8)
    valid = np.ones_like(gt)
    pairs = [(1, base, gt, gt, valid), (1, 10 * base, gt, ~gt, valid)]
    res = threshold_ious(pairs)
    assert res['pairs'] == 2
    assert res['per_image'] == pytest.approx(100.0)
    assert res['own'] == pytest.approx(50.0)  # IoU 1 and 0
    # no single threshold separates both: the best one is exact on one
    # image and marks everything above it on the other
    assert 0 < res['per_class'] < 100
    values = np.unique(np.concatenate([base.ravel(), 10 * base.ravel()]))
    best_one = max(
        np.mean([((h > t) & gt).sum() / ((h > t) | gt).sum()
                 for h in (base, 10 * base)]) for t in values)
    assert res['per_class'] == pytest.approx(100 * best_one, abs=1.0)
    # ignored pixels do not count
    masked = valid.copy()
    masked[gt] = False
    assert threshold_ious([(1, base, gt, gt, masked)])['own'] == 100.0
