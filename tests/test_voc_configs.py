"""Every VOC 2012 experiment config trains one iteration and validates, on
the toy VOC (same layout) with tiny overrides: 64x64, batch 1 + 1, no
ImageNet download."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

import mmseg_lrp  # noqa: F401
from conftest import ROOT

VOC_CONFIGS = sorted(
    glob.glob(osp.join(ROOT, 'configs', '*', '*_voc12-*.py')))


def test_every_backbone_and_budget_has_a_config():
    names = {osp.basename(p) for p in VOC_CONFIGS}
    for bb in ('vgg16', 'vgg16-bn', 'r50'):
        assert f'unrolled-lrp_{bb}_1xb10-16k_voc12-cls-256x256.py' in names
        for n in (20, 100, 500, 1464):
            assert (f'unrolled-lrp_{bb}_1xb10-20k_voc12-semi{n}-256x256.py'
                    in names)


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
        if ds.type == 'VOCPixelLabelDataset':
            ds.ann_file = 'ImageSets/SemiSeg/paper_6_seed0.txt'
    train.batch_size = 2
    if train.sampler.type == 'SemiSupervisedSampler':
        train.sampler.batch_size = 2
        train.sampler.num_pixel_labelled = 1
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
    for hook in cfg.custom_hooks:
        if hook['type'] == 'LRPHeatmapHook':
            hook['indices'] = [0]
    return cfg


@pytest.mark.slow
@pytest.mark.parametrize('path', VOC_CONFIGS,
                         ids=[osp.basename(p) for p in VOC_CONFIGS])
def test_voc_config_trains_and_validates(path, toy_semi, tmp_path):
    from mmengine.runner import Runner
    cfg = toy_overrides(Config.fromfile(path), toy_semi, tmp_path)
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.message_hub.get_scalar('val/mIoU').current()
    assert 0 <= metrics <= 100
    if 'voc12-cls' in path:  # stage 1 keeps the best classifier
        assert glob.glob(str(tmp_path / 'best_cls_mAP_iter_1.pth'))
    else:
        assert glob.glob(str(tmp_path / 'best_mIoU_iter_1.pth'))
        assert glob.glob(str(tmp_path / 'heatmaps' / 'iter_1' / '*.png'))
