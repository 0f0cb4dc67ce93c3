"""The paper-compatible mode: each switch against an independent reference,
and the paper_compat configs (docs: configs/unrolled_lrp/paper_compat)."""
import glob
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner.checkpoint import load_state_dict

import mmseg_lrp.plugin  # noqa: F401
from conftest import ROOT, gradient_x_input
from test_lrp_model import batch, build
from test_voc_configs import toy_overrides

COMPAT_DIR = osp.join(ROOT, 'configs', 'unrolled_lrp', 'paper_compat')


# -- 8. the original's split draw ---------------------------------------------
def fixed_class_matrix():
    """60 candidates x 20 classes, 1-3 classes each, skewed frequencies."""
    rs = np.random.RandomState(123)
    freq = np.linspace(3.0, 0.2, 20)
    freq /= freq.sum()
    labs = np.zeros((60, 20))
    for r in range(60):
        labs[r, rs.choice(20, rs.randint(1, 4), replace=False, p=freq)] = 1
    return labs


# Figures produced once with the original function
# (random_sampling_with_distribution of TW-autoencoder's
# utils/sampling_utils.py, release 01d3932, after compute_distribution and
# make_uniform, seed=0) on fixed_class_matrix(). The original returns fewer
# ids than asked when no candidate fits the next class quota.
ORIGINAL_DRAWS = {
    (5, 1.0): [34, 43, 46, 16, 23],
    (20, 1.0): [34, 43, 46, 16, 23, 4, 26, 55, 59, 48, 41, 53],
    (30, 0.5): [17, 39, 37, 29, 34, 56, 40, 54, 51, 13, 47, 31, 18, 50, 2,
                42, 0, 1, 45],
}


@pytest.mark.parametrize('num,uniform', sorted(ORIGINAL_DRAWS))
def test_original_draw_returns_the_original_functions_subsets(num, uniform):
    from mmseg_lrp.datasets.splits import original_draw
    state = np.random.get_state()
    assert original_draw(fixed_class_matrix(), num, uniform,
                         0) == ORIGINAL_DRAWS[(num, uniform)]
    # a private generator: the global numpy stream is left alone
    assert np.array_equal(np.random.get_state()[1], state[1])


def test_original_protocol_maps_ids_and_classes_like_the_original():
    """Rows are the sorted ids, columns the VOC classes without background
    (the original's one-hot order); ``blend`` is ``1 - uniform``."""
    from mmseg_lrp.datasets.class_names import VOC_CLASSES
    from mmseg_lrp.datasets.splits import select_pixel_ids
    labs = fixed_class_matrix()
    ids = [f'2008_{i:06d}' for i in range(60)]
    labels = {i: [VOC_CLASSES[1 + c] for c in np.flatnonzero(row)]
              for i, row in zip(reversed(ids), labs[::-1])}
    for (num, uniform), rows in ORIGINAL_DRAWS.items():
        got = select_pixel_ids(labels, num, 'original', seed=0,
                               blend=1 - uniform)
        assert got == sorted(ids[r] for r in rows)
    with pytest.raises(ValueError, match="class 'unicorn'"):
        select_pixel_ids(dict(labels, x=['unicorn']), 5, 'original')


# -- 1. tying modes -----------------------------------------------------------
def other_checkpoint(name='unrolled-lrp_vgg16.py'):
    """Weights of a differently seeded, tied model (a stage-1 checkpoint:
    no untied decoder keys)."""
    torch.manual_seed(1)
    other = build(name)
    with torch.no_grad():
        for p in other.parameters():
            p.add_(torch.randn_like(p))
    return other


def test_untied_copies_start_from_the_loaded_checkpoint_not_the_init():
    """tie=False: mmengine runs init_weights before load_from, so copies
    taken at init were the encoder's initial weights, not the checkpoint's.
    They are taken again from the encoder once a checkpoint without them is
    loaded; a checkpoint with them (resume) keeps its own."""
    model = build(decode_head=dict(tie=False))
    other = other_checkpoint()
    load_state_dict(model, other.state_dict())
    enc = other.backbone.features[3].conv.weight
    copy = model.decode_head.untied['features__3__conv']
    assert torch.equal(copy, enc)
    # resume: the checkpoint's own copies win
    state = model.state_dict()
    state['decode_head.untied.features__3__conv'] = torch.zeros_like(copy)
    load_state_dict(model, state)
    assert copy.abs().sum() == 0


def test_original_tying_keeps_initial_copies_and_own_bn():
    """tie='original': the copies of the conv layers and of the classifier
    are taken at init and survive loading a checkpoint without them (the
    original's decoder never saw the stage-1 weights); BN layers use the
    encoder's parameters; the segmentation loss trains the copies."""
    model = build('unrolled-lrp_vgg16-bn.py', decode_head=dict(tie='original'))
    head = model.decode_head
    init = {k: v.detach().clone() for k, v in head.untied.items()}
    assert 'classifier__fc' in init and not any('bn' in k for k in init)
    load_state_dict(model, other_checkpoint('unrolled-lrp_vgg16-bn.py')
                    .state_dict())
    for k, v in head.untied.items():
        assert torch.equal(v, init[k]), k
    assert not torch.equal(head.untied['classifier__fc'],
                           head.conv_seg.weight)
    weights = head._decoder_weights()
    assert weights['features.0.bn'] is model.backbone.features[0].bn.weight
    model.train()
    inputs, samples = batch(2, labelled=(0, 1))
    model.loss(inputs, samples)['decode.loss_seg'].backward()
    for key in ('classifier__fc', 'features__0__conv'):
        assert head.untied[key].grad.abs().sum() > 0, key


@pytest.mark.parametrize('name', ['unrolled-lrp_vgg16.py',
                                  'unrolled-lrp_r50.py'])
def test_original_tying_with_equal_copies_gives_gradient_x_input(name):
    """Right after init the copies equal the encoder's weights, so the
    heatmaps are LRP-0 = gradient x input (an independent reference): the
    decoder reads every copy where the tied one reads the encoder."""
    model = build(name, decode_head=dict(tie='original', epsilon=1e-12))
    model.eval()
    x = torch.randn(2, 3, 64, 64, dtype=torch.float64)
    with torch.no_grad():
        H = model(x, mode='tensor')
    from test_lrp_model import oracle_heatmaps
    ref = oracle_heatmaps(model, x)
    assert ((H - ref).abs().max() / ref.abs().max()) < 1e-5
    # and a changed copy changes them: the decoder does read the copies
    with torch.no_grad():
        model.decode_head.untied['classifier__fc'].mul_(2)
        assert not torch.allclose(model(x, mode='tensor'), H)


def test_tie_mode_is_checked():
    with pytest.raises(ValueError, match='tie must be one of'):
        build(decode_head=dict(tie='paper'))


# -- 11. VGG classifier: 7x7 adaptive pool, fc6, fc7, fc8 ---------------------
def vgg_fc(**head):
    return build(decode_head=dict(pool_size=7, fc_channels=(24, 16),
                                  epsilon=1e-12, **head))


def test_fc_stack_heatmaps_equal_gradient_x_input():
    """LRP through fc8, fc7, fc6 (dropout: identity) and the adaptive 7x7
    pool (here upsampling a 2x3 map: overlapping windows) equals gradient x
    input of the same classifier."""
    model = vgg_fc()
    model.eval()
    x = torch.randn(2, 3, 64, 96, dtype=torch.float64)
    with torch.no_grad():
        H = model(x, mode='tensor')
    x = x.requires_grad_(True)
    z = model.decode_head.classify(model.backbone(x))
    assert z.shape == (2, 5)
    ref = gradient_x_input(z, x)
    assert ((H - ref).abs().max() / ref.abs().max()) < 1e-5


def test_fc_stack_in_train_mode_follows_the_forwards_dropout():
    """In training, dropout's mask of the recorded forward pass is part of
    the function: heatmaps equal gradient x input of those logits."""
    model = vgg_fc()
    model.train()
    x = torch.randn(2, 3, 64, 64, dtype=torch.float64, requires_grad=True)
    feats = model.extract_feat(x)
    z = model.decode_head.classify(feats)
    H = model.decode_head.decode(feats)
    ref = gradient_x_input(z, x)
    assert ((H - ref).abs().max() / ref.abs().max()) < 1e-5
    # a second forward draws another mask: different logits
    assert not torch.allclose(model.decode_head.classify(
        model.extract_feat(x)), z)


def test_fc_stack_loads_mmpretrains_imagenet_classifier(tmp_path):
    """fc_init_cfg reads fc6 / fc7 from an mmpretrain VGG checkpoint
    (``backbone.classifier.{0,3}``); its 1000-class fc8 is not used."""
    w = {
        'backbone.classifier.0.weight': torch.randn(24, 512 * 49),
        'backbone.classifier.0.bias': torch.randn(24),
        'backbone.classifier.3.weight': torch.randn(16, 24),
        'backbone.classifier.3.bias': torch.randn(16),
        'backbone.classifier.6.weight': torch.randn(1000, 16),
        'backbone.classifier.6.bias': torch.randn(1000),
    }
    ckpt = str(tmp_path / 'vgg.pth')
    torch.save(dict(state_dict=w), ckpt)
    model = vgg_fc(fc_init_cfg=dict(type='Pretrained', checkpoint=ckpt,
                                    prefix='backbone.classifier.'))
    mlp = model.decode_head.mlp
    assert torch.equal(mlp[0].weight.float(),
                       w['backbone.classifier.0.weight'])
    assert torch.equal(mlp[3].bias.float(), w['backbone.classifier.3.bias'])
    assert model.decode_head.conv_seg.weight.shape == (5, 16, 1, 1)


# -- 5/7. stop-gradients at the classifier: the start relevance -------------
@pytest.mark.parametrize('release', [False, True])
def test_release_start_relevance_gives_the_fc_bias_gradient(release):
    """Relevance starts as z_k e_k; the release divides it by z~_k, the logit
    with a detached bias, so d H_k / d b_k = H_k / z_k (the exact default:
    z_k / z_k, no gradient)."""
    rules = [dict(layers='classifier.*', type='epsilon',
                  detach_bias=True)] if release else []
    model = build(decode_head=dict(conv_rules=rules, epsilon=1e-12))
    model.eval()
    x = torch.randn(2, 3, 64, 64, dtype=torch.float64)
    feats = model.extract_feat(x)
    z = model.decode_head.classify(feats).detach()
    H = model.decode_head.decode(feats)
    G = torch.randn_like(H)
    (H * G).sum().backward()
    got = model.decode_head.conv_seg.bias.grad
    want = ((H * G).sum((2, 3)) / z).sum(0).detach()
    if release:
        torch.testing.assert_close(got, want)
    else:
        assert got.abs().max() < 1e-6 * want.abs().max()


# -- 3. boundaries in training ------------------------------------------------
def test_ignore_to_background_leaves_unlabelled_samples_alone():
    from mmseg_lrp.datasets.transforms import IgnoreToBackground
    seg = np.array([[1, 255], [0, 255]], dtype=np.uint8)
    t = IgnoreToBackground()
    out = t(dict(gt_seg_map=seg.copy(), has_pixel_label=True))['gt_seg_map']
    assert out.tolist() == [[1, 0], [0, 0]]
    unl = np.full((2, 2), 255, np.uint8)
    out = t(dict(gt_seg_map=unl.copy(), has_pixel_label=False))
    assert (out['gt_seg_map'] == 255).all()  # unlabelled, not background


# -- 9. disjoint pools --------------------------------------------------------
@pytest.mark.parametrize('disjoint', [False, True])
def test_disjoint_pools_leave_pixel_ids_out_of_the_image_pool(
        toy_semi, disjoint):
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS
    init_default_scope('mmseg')
    cfg = Config.fromfile(osp.join(
        ROOT, 'configs', '_base_', 'datasets',
        'voc12-semi_paper-compat.py')).train_dataloader.dataset
    cfg.disjoint_pools = disjoint
    cfg.pixel_split = 'ImageSets/SemiSeg/paper_6_seed0.txt'
    for pool in cfg.datasets:
        pool.data_root = toy_semi
    ds = DATASETS.build(cfg)
    pixel, image = ds.datasets

    def ids(d):
        return {osp.basename(d.get_data_info(i)['img_path'])
                for i in range(len(d))}

    both = ids(pixel) & ids(image)
    assert len(ids(pixel)) == 6
    assert (not both) if disjoint else both == ids(pixel)


# -- 10. stage 2 needs stage 1 ------------------------------------------------
class _Runner:

    def __init__(self, loaded):
        self._has_loaded = loaded


def test_require_checkpoint_hook_refuses_a_run_without_load_from():
    from mmseg_lrp.engine import RequireCheckpointHook
    hook = RequireCheckpointHook()
    hook.before_train(_Runner(True))
    with pytest.raises(RuntimeError, match='load_from'):
        hook.before_train(_Runner(False))


# -- the configs --------------------------------------------------------------
STAGE2 = sorted(glob.glob(osp.join(COMPAT_DIR, '*voc12-semi*.py')))
STAGE1 = sorted(glob.glob(osp.join(COMPAT_DIR, '*voc12-cls*.py')))


def test_every_backbone_and_budget_has_a_compat_config():
    names = {osp.basename(p) for p in STAGE1 + STAGE2}
    for bb in ('vgg16', 'r50'):
        assert (f'unrolled-lrp-compat_{bb}_1xb32-4900iter_voc12-cls-'
                '256x256.py') in names
        for n in (20, 100, 500, 1464):
            assert (f'unrolled-lrp-compat_{bb}_1xb10-157k_voc12-semi{n}-'
                    '256x256.py') in names


@pytest.mark.parametrize('path', STAGE2, ids=osp.basename)
def test_stage2_configs_switch_everything_on(path):
    cfg = Config.fromfile(path)
    head, pre = cfg.model.decode_head, cfg.model.data_preprocessor
    assert head.tie == 'original'
    assert head.loss_decode.cls_weight == cfg.train_dataloader.batch_size
    rules = {(r['layers'], r['type']): r for r in head.conv_rules}
    assert rules[('classifier.*', 'epsilon')]['detach_bias']
    assert rules[('*', 'epsilon')]['detach_bias']
    assert rules[('*', 'batch_norm')]['detach_factors']
    assert rules[('*', 'winner_takes_all')]['overwrite']
    ds = cfg.train_dataloader.dataset
    assert ds.disjoint_pools
    n = int(path.split('semi')[1].split('-')[0])
    assert ds.pixel_split == ('ImageSets/Segmentation/train.txt' if n == 1464
                              else f'ImageSets/SemiSeg/original_{n}_seed0.txt')
    for pool in ds.datasets:
        types = [t['type'] for t in pool.pipeline]
        assert types.index('IgnoreToBackground') < types.index(
            'PackSemiSegInputs')
    assert cfg.train_cfg.val_interval == 300
    assert cfg.default_hooks.checkpoint.save_best == 'mIoU'
    assert 'RequireCheckpointHook' in [h['type'] for h in cfg.custom_hooks]
    assert ('vgg16' in path) == (tuple(head.fc_channels) == (4096, 4096))
    # the preprocessor feeds (x + 1) / 256
    from mmseg.models import SegDataPreProcessor
    x = torch.randint(0, 256, (3, 8, 8), dtype=torch.uint8)
    kw = {k: v for k, v in pre.items() if k != 'type'}
    out = SegDataPreProcessor(**dict(kw, size=None, test_cfg=None))(dict(
        inputs=[x], data_samples=None))['inputs']
    torch.testing.assert_close(out[0], (x.flip(0).float() + 1) / 256)


@pytest.mark.parametrize('path', STAGE1, ids=osp.basename)
def test_stage1_configs_train_the_classifier_as_the_original(path):
    cfg = Config.fromfile(path)
    head = cfg.model.decode_head
    assert head.tie is True and head.loss_decode.seg_weight == 0
    assert head.loss_decode.cls_weight == 1.0
    assert cfg.train_dataloader.batch_size == 32
    assert cfg.train_cfg.max_iters == 4900
    assert cfg.default_hooks.checkpoint.save_best is None
    pool = cfg.train_dataloader.dataset.datasets[0]
    assert pool.exclude_files == ['ImageSets/Segmentation/val.txt']


@pytest.mark.slow
def test_vgg16_compat_model_takes_a_training_step():
    """The real VGG16 classifier (fc6 25088 -> 4096, fc7, fc8) with the
    original tying: one loss step on a small batch, finite losses and
    gradients on the decoder's copies."""
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    cfg = Config.fromfile([p for p in STAGE2 if 'vgg16' in p][0])
    cfg.model.data_preprocessor.size = (64, 64)
    model = MODELS.build(cfg.model)
    model.train()
    inputs, samples = batch(2, labelled=(0, ), num_classes=21)
    losses = model.loss(inputs.float(), samples)
    loss = losses['decode.loss_seg'] + losses['decode.loss_cls']
    assert torch.isfinite(loss)
    loss.backward()
    head = model.decode_head
    assert head.untied['classifier__mlp__0'].grad.abs().sum() > 0
    assert head.mlp[0].weight.grad.abs().sum() > 0


@pytest.mark.slow
def test_r50_compat_stages_run_and_stage2_needs_stage1(toy_semi, tmp_path):
    """Stage 1 then stage 2 of the ResNet-50 compat configs, one iteration
    each on the toy VOC; stage 2 refuses to start without load_from."""
    from mmengine.runner import Runner
    s1 = [p for p in STAGE1 if 'r50' in p][0]
    s2 = [p for p in STAGE2 if 'r50' in p and 'semi20-' in p][0]
    cfg = toy_overrides(Config.fromfile(s1), toy_semi, tmp_path / 's1')
    Runner.from_cfg(cfg).train()
    ckpt = tmp_path / 's1' / 'iter_1.pth'
    assert ckpt.exists()
    cfg = toy_overrides(Config.fromfile(s2), toy_semi, tmp_path / 'scratch')
    with pytest.raises(RuntimeError, match='load_from'):
        Runner.from_cfg(cfg).train()
    from mmseg_lrp.utils import register_checkpoint_loader
    register_checkpoint_loader()  # as tools/train.py does, for load_from
    cfg = toy_overrides(Config.fromfile(s2), toy_semi, tmp_path / 's2')
    cfg.load_from = str(ckpt)
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert 0 <= runner.message_hub.get_scalar('val/mIoU').current() <= 100
    head = runner.model.decode_head
    # the loaded stage 1 did not reach the decoder's copies
    state = torch.load(ckpt, map_location='cpu',
                       weights_only=False)['state_dict']
    assert not torch.equal(head.untied['classifier__fc'].detach(),
                           state['decode_head.conv_seg.weight'])


def test_paired_toy_config_differs_from_the_default_only_in_the_switches():
    base = Config.fromfile(osp.join(
        ROOT, 'configs', 'toy_experiment',
        'unrolled-lrp_r18-cifar-c16_1xb8-300iter_toyvoc-semi-64x64.py'))
    cfg = Config.fromfile(osp.join(
        ROOT, 'configs', 'toy_experiment',
        'unrolled-lrp-compat_r18-cifar-c16_1xb8-300iter_toyvoc-semi-64x64.py'))
    assert cfg.optim_wrapper == base.optim_wrapper
    assert cfg.train_cfg == base.train_cfg
    assert cfg.model.backbone == base.model.backbone
    assert cfg.model.decode_head.loss_decode.cls_weight == 8.0
    assert cfg.train_dataloader.dataset.disjoint_pools


@pytest.mark.parametrize('passes', [0, 3])
def test_decoder_bn_passes_move_running_statistics_as_the_original(passes):
    """decoder_bn_passes=P: after one training step, the running statistics
    of each bottleneck's bn3 and downsample BN are those of 1 + P train-mode
    calls on the step's batch (the forward, then the original decoder's P
    passes, _inv_bottleneck.py), every other BN's those of one call:
    r = (1 - m)^n r0 + (1 - (1 - m)^n) batch statistic, written out here.
    P = 0 is the switch ignored: the rerun layers then move as the rest."""
    model = build('unrolled-lrp_r50.py', double=False,
                  backbone=dict(zero_init_residual=False),
                  decode_head=dict(decoder_bn_passes=passes)).train()
    bns = {n: m for n, m in model.backbone.named_modules()
           if isinstance(m, torch.nn.BatchNorm2d)}
    for m in bns.values():  # non-trivial starting statistics
        m.running_mean.uniform_(-1, 1)
        m.running_var.uniform_(0.5, 2)
    r0 = {n: (m.running_mean.clone(), m.running_var.clone())
          for n, m in bns.items()}
    seen = {}

    def keep_first(name):
        def hook(mod, args, out):
            seen.setdefault(name, args[0].detach().double())
        return hook

    handles = [m.register_forward_hook(keep_first(n)) for n, m in bns.items()]
    inputs, samples = batch(2, labelled=(0, ), size=(32, 32))
    model.loss(inputs.float(), samples)
    for h in handles:
        h.remove()
    rerun = {n for n in bns if n.endswith(('.bn3', '.downsample.1'))}
    assert len(rerun) == 16 + 4  # 16 bottlenecks, 4 downsamples
    for n, m in bns.items():
        x = seen[n]
        mean = x.mean((0, 2, 3))
        var = x.var((0, 2, 3), unbiased=True)
        keep = (1 - m.momentum)**(1 + passes if n in rerun else 1)
        ref_mean = keep * r0[n][0].double() + (1 - keep) * mean
        ref_var = keep * r0[n][1].double() + (1 - keep) * var
        torch.testing.assert_close(m.running_mean.double(), ref_mean,
                                   rtol=1e-4, atol=1e-5, msg=n)
        torch.testing.assert_close(m.running_var.double(), ref_var,
                                   rtol=1e-4, atol=1e-5, msg=n)
        assert m.num_batches_tracked.item() == (1 + passes
                                                if n in rerun else 1), n


def test_decoder_bn_passes_is_checked_and_set_in_the_r50_compat_configs():
    with pytest.raises(ValueError, match='decoder_bn_passes'):
        build(decode_head=dict(decoder_bn_passes=-1))
    for path in STAGE1 + STAGE2:
        cfg = Config.fromfile(path)
        want = 42 if 'r50' in path and 'semi' in path else 0
        assert cfg.model.decode_head.get('decoder_bn_passes', 0) == want, \
            osp.basename(path)


BASELINES_DIR = osp.join(ROOT, 'configs', 'baselines', 'paper_compat')


@pytest.mark.parametrize(
    'path', sorted(glob.glob(osp.join(BASELINES_DIR, '*.py'))),
    ids=osp.basename)
def test_baseline_compat_configs_follow_the_original_schedules(path):
    """The original's UNet (30k iterations at batch 10 = min(N, 10), val
    every 150) and multi-task UNet (the LRP compat schedule: 156,800, val
    every 300, classification loss x 10), both on the compat data."""
    cfg = Config.fromfile(path)
    name = osp.basename(path)
    n = int(name.split('voc12-')[1].split('-')[0].lstrip('pixelsemi'))
    ds = cfg.train_dataloader.dataset
    assert ds.pixel_split == ('ImageSets/Segmentation/train.txt' if n == 1464
                              else f'ImageSets/SemiSeg/original_{n}_seed0.txt')
    for pool in ds.datasets:
        assert 'IgnoreToBackground' in [t['type'] for t in pool.pipeline]
    pre = cfg.model.data_preprocessor
    assert (pre.mean, pre.std) == ([-1.0] * 3, [256.0] * 3)
    assert cfg.model.decode_head.dropout_ratio == 0
    assert cfg.train_dataloader.batch_size == 10
    assert cfg.default_hooks.checkpoint.save_best == 'mIoU'
    if 'multitask' in name:
        assert cfg.train_cfg.max_iters == 156800
        assert cfg.train_cfg.val_interval == 300
        assert cfg.train_dataloader.batch_sampler.num_pixel_labelled == 5
        assert cfg.model.auxiliary_head.loss_decode.cls_weight == 10.0
        assert ds.disjoint_pools
    else:
        # epochs x ceil(N / 10) of the original's README commands
        epochs = {20: 15000, 100: 3000, 500: 600, 1464: 200}[n]
        assert cfg.train_cfg.max_iters == epochs * -(-n // 10)
        assert cfg.train_cfg.val_interval == 150
        assert cfg.train_dataloader.batch_sampler.num_pixel_labelled == 10


# -- 4. torchvision's ImageNet weights ------------------------------------
def test_torchvision_vgg16_weights_give_torchvisions_features(tmp_path):
    """TorchvisionPretrained maps a torchvision VGG16 (random weights,
    saved here) onto mmpretrain's VGG16 and the head's fc6 / fc7: the
    backbone then computes torchvision's ``features``, the fc stack its
    ``classifier[:-1]``; the 1000-class fc8 is not loaded."""
    pytest.importorskip('torchvision')
    from torchvision.models.vgg import cfgs, make_layers
    torch.manual_seed(0)
    features = make_layers(cfgs['D']).eval()
    fc = torch.nn.Sequential(
        torch.nn.Linear(512 * 49, 24), torch.nn.ReLU(), torch.nn.Dropout(),
        torch.nn.Linear(24, 16), torch.nn.ReLU(), torch.nn.Dropout(),
        torch.nn.Linear(16, 1000)).eval()
    state = {f'features.{k}': v for k, v in features.state_dict().items()}
    state.update({f'classifier.{k}': v for k, v in fc.state_dict().items()})
    ckpt = str(tmp_path / 'vgg16-torchvision.pth')
    torch.save(state, ckpt)
    model = build(double=False,
                  backbone=dict(init_cfg=dict(type='TorchvisionPretrained',
                                              checkpoint=ckpt)),
                  decode_head=dict(
                      pool_size=7, fc_channels=(24, 16),
                      fc_init_cfg=dict(type='TorchvisionPretrained',
                                       checkpoint=ckpt, part='classifier')))
    model.eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        ours = model.backbone(x)[-1]
        torch.testing.assert_close(ours, features(x))
        pooled = torch.nn.functional.adaptive_avg_pool2d(ours, 7).flatten(1)
        torch.testing.assert_close(model.decode_head.mlp(pooled),
                                   fc[:-1](pooled))
    assert model.decode_head.conv_seg.weight.shape == (5, 16, 1, 1)


def test_torchvision_resnet50_weights_give_torchvisions_layer4(tmp_path):
    torchvision = pytest.importorskip('torchvision')
    torch.manual_seed(0)
    tv = torchvision.models.resnet50(weights=None).eval()
    for m in tv.modules():  # non-trivial BN statistics
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    ckpt = str(tmp_path / 'resnet50-torchvision.pth')
    torch.save(tv.state_dict(), ckpt)
    with pytest.raises(ValueError, match='zero_init_residual=False'):
        build('unrolled-lrp_r50.py', double=False,
              backbone=dict(init_cfg=dict(type='TorchvisionPretrained',
                                          checkpoint=ckpt)))
    model = build('unrolled-lrp_r50.py', double=False,
                  backbone=dict(zero_init_residual=False,
                                init_cfg=dict(type='TorchvisionPretrained',
                                              checkpoint=ckpt))).eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        ref = tv.layer4(tv.layer3(tv.layer2(tv.layer1(tv.maxpool(tv.relu(
            tv.bn1(tv.conv1(x))))))))
        torch.testing.assert_close(model.backbone(x)[-1], ref)


def test_torchvision_init_names_what_does_not_fit(tmp_path):
    pytest.importorskip('torchvision')
    from torchvision.models.vgg import cfgs, make_layers
    state = {f'features.{k}': v
             for k, v in make_layers(cfgs['A']).state_dict().items()}
    ckpt = str(tmp_path / 'vgg11.pth')
    torch.save(state, ckpt)
    with pytest.raises(ValueError, match=r'8 Conv2d layers.*model has 13'):
        build(double=False, backbone=dict(init_cfg=dict(
            type='TorchvisionPretrained', checkpoint=ckpt)))
    torch.save({'conv.weight': torch.zeros(1)}, ckpt)
    with pytest.raises(ValueError, match='not a torchvision VGG or ResNet'):
        build(double=False, backbone=dict(init_cfg=dict(
            type='TorchvisionPretrained', checkpoint=ckpt)))
