"""Every VOC 2012 experiment config (unrolled LRP and the baselines): the
configs of 100/500/1464 pixel labels are their 20-label sibling with
another split file (checked key by key), and every other config trains one
iteration and validates, on the toy VOC (same layout) with tiny overrides:
64x64, batch 1 + 1 (2 pixel-labelled for the supervised baselines), no
ImageNet download."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

import mmseg_lrp.plugin  # noqa: F401
from conftest import ROOT

VOC_CONFIGS = sorted(
    glob.glob(osp.join(ROOT, 'configs', '*', '*_voc12-*.py')))
# the 20-label configs and the stage-1 classifiers; the others are siblings
TRAINED_CONFIGS = [
    p for p in VOC_CONFIGS
    if not any(f'{n}-256x256' in p for n in (100, 500, 1464))
]


def _plain(cfg):
    d = cfg.to_dict()
    d.pop('filename', None)
    return d


@pytest.mark.parametrize('n', [100, 500, 1464])
def test_budget_configs_differ_from_their_20_label_sibling_in_the_split(n):
    siblings = [p for p in VOC_CONFIGS if f'{n}-256x256' in p]
    assert len(siblings) == 6
    for path in siblings:
        cfg = _plain(Config.fromfile(path))
        ref = _plain(Config.fromfile(path.replace(f'{n}-256x256',
                                                  '20-256x256')))
        split = cfg['train_dataloader']['dataset'].pop('pixel_split')
        ref['train_dataloader']['dataset'].pop('pixel_split')
        assert split == f'ImageSets/SemiSeg/paper_{n}_seed0.txt'
        assert cfg == ref, path


def test_every_backbone_and_budget_has_a_config():
    names = {osp.basename(p) for p in VOC_CONFIGS}
    for bb in ('vgg16', 'vgg16-bn', 'r50'):
        assert f'unrolled-lrp_{bb}_1xb10-16k_voc12-cls-256x256.py' in names
        for n in (20, 100, 500, 1464):
            assert (f'unrolled-lrp_{bb}_1xb10-20k_voc12-semi{n}-256x256.py'
                    in names)
    for n in (20, 100, 500, 1464):
        for name in (f'unet_r50_1xb10-20k_voc12-pixel{n}-256x256.py',
                     f'deeplabv3_r50-d8_1xb10-20k_voc12-pixel{n}-256x256.py',
                     f'unet-multitask_r50_1xb10-20k_voc12-semi{n}-256x256.py'):
            assert name in names


def test_baselines_read_the_lrp_split_files():
    """A baseline and the LRP config of the same budget train on the same
    pixel-labelled split; the supervised ones draw only from it."""
    for n in (20, 100, 500, 1464):
        lrp = Config.fromfile(osp.join(
            ROOT, 'configs', 'unrolled_lrp',
            f'unrolled-lrp_r50_1xb10-20k_voc12-semi{n}-256x256.py'))
        split = lrp.train_dataloader.dataset.pixel_split
        assert split == f'ImageSets/SemiSeg/paper_{n}_seed0.txt'
        for name, pixel_only in (
                (f'unet_r50_1xb10-20k_voc12-pixel{n}-256x256.py', True),
                (f'deeplabv3_r50-d8_1xb10-20k_voc12-pixel{n}-256x256.py',
                 True),
                (f'unet-multitask_r50_1xb10-20k_voc12-semi{n}-256x256.py',
                 False)):
            cfg = Config.fromfile(osp.join(ROOT, 'configs', 'baselines',
                                           name))
            loader = cfg.train_dataloader
            assert loader.dataset.pixel_split == split
            assert (cfg.val_dataloader.dataset.pipeline ==
                    lrp.val_dataloader.dataset.pipeline)
            assert cfg.model.backbone.type == lrp.model.backbone.type
            assert (cfg.model.backbone.init_cfg.checkpoint ==
                    lrp.model.backbone.init_cfg.checkpoint)
            want = 10 if pixel_only else 5
            assert loader.batch_sampler.num_pixel_labelled == want
            assert loader.batch_size == 10


def shrink(pipeline):
    for t in pipeline:
        if t['type'] == 'Resize':
            t['scale'] = (64, 64)


def toy_overrides(cfg, root, work_dir):
    cfg.work_dir = str(work_dir)
    cfg.model.backbone.init_cfg = None  # no ImageNet download here
    cfg.model.data_preprocessor.size = (64, 64)
    train = cfg.train_dataloader
    pools = train.dataset.datasets if 'datasets' in train.dataset else [
        train.dataset
    ]
    for ds in pools:
        ds.data_root = root
        shrink(ds.pipeline)
    if train.dataset.get('pixel_split'):
        train.dataset.pixel_split = 'ImageSets/SemiSeg/paper_6_seed0.txt'
    elif train.dataset.type == 'VOCPixelLabelDataset':
        train.dataset.ann_file = 'ImageSets/SemiSeg/paper_6_seed0.txt'
    if train.get('batch_sampler'):
        pixel_only = (
            train.batch_sampler.num_pixel_labelled == train.batch_size)
        train.batch_sampler.num_pixel_labelled = 2 if pixel_only else 1
    train.batch_size = 2
    val = cfg.val_dataloader
    val.dataset.data_root = root
    val.dataset.indices = 2
    shrink(val.dataset.pipeline)
    for loader in (train, val):
        loader.num_workers = 0
        loader.persistent_workers = False
    cfg.test_dataloader = cfg.test_evaluator = cfg.test_cfg = None
    cfg.train_cfg.max_iters = 1
    cfg.train_cfg.val_interval = 1
    cfg.default_hooks.checkpoint.interval = 1
    cfg.default_hooks.logger.interval = 1
    for hook in cfg.get('custom_hooks', None) or []:
        if hook['type'] == 'LRPHeatmapHook':
            hook['indices'] = [0]
    return cfg


@pytest.mark.slow
@pytest.mark.parametrize('path', TRAINED_CONFIGS,
                         ids=[osp.basename(p) for p in TRAINED_CONFIGS])
def test_voc_config_trains_and_validates(path, toy_semi, tmp_path):
    from mmengine.runner import Runner
    cfg = toy_overrides(Config.fromfile(path), toy_semi, tmp_path)
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.message_hub.get_scalar('val/mIoU').current()
    assert 0 <= metrics <= 100
    if 'voc12-semi' in path or 'voc12-cls' in path:
        # every model with a classifier (unrolled LRP, multi-task UNet)
        # reports it, so the classifiers compare too
        cls_map = runner.message_hub.get_scalar('val/cls/mAP').current()
        assert 0 <= cls_map <= 100
    if 'voc12-cls' in path:  # stage 1 keeps the best classifier
        assert glob.glob(str(tmp_path / 'best_cls_mAP_iter_1.pth'))
    else:
        assert glob.glob(str(tmp_path / 'best_mIoU_iter_1.pth'))
    if 'unrolled-lrp' in path and 'voc12-semi' in path:
        assert glob.glob(str(tmp_path / 'heatmaps' / 'iter_1' / '*.png'))
