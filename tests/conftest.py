import os
import os.path as osp
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
BASELINE_CONFIG = osp.join(
    ROOT, 'configs', 'baselines',
    'unet-s4-d8-c16_fcn_1xb8-800iter_toyvoc-96x96.py')


def pytest_configure(config):
    config.addinivalue_line('markers', 'slow: end-to-end tests (runner, CLI)')


@pytest.fixture(scope='session')
def toy_voc(tmp_path_factory):
    """A small toy VOC (session-wide): 24 images, 12 train / 8 val masks."""
    from mmseg_lrp.datasets import make_toy_voc
    root = str(tmp_path_factory.mktemp('toy') / 'VOC2012')
    ids = make_toy_voc(root, num_images=24, num_seg_train=12, num_seg_val=8,
                       seed=3)
    return root, ids


def tool_cmd(script, *args):
    """Command line running one of the repo's tools with this interpreter."""
    return [sys.executable, osp.join(ROOT, 'tools', script)] + [
        str(a) for a in args
    ]


def tool_env():
    env = dict(os.environ)
    env['PYTHONUNBUFFERED'] = '1'
    return env


def voc_dataset(root, pipeline, split='train'):
    """mmseg's own PascalVOCDataset over a VOC-layout folder."""
    from mmengine.registry import init_default_scope
    from mmseg.datasets import PascalVOCDataset
    init_default_scope('mmseg')
    return PascalVOCDataset(
        data_root=root,
        data_prefix=dict(img_path='JPEGImages',
                         seg_map_path='SegmentationClass'),
        ann_file=f'ImageSets/Segmentation/{split}.txt',
        pipeline=pipeline)


def toy_cfg_options(root, max_iters, interval):
    """--cfg-options for a short run on the toy VOC at ``root``: few
    iterations, batch 2, no dataloader workers."""
    opts = [f'train_cfg.max_iters={max_iters}',
            f'train_cfg.val_interval={interval}',
            f'default_hooks.checkpoint.interval={interval}',
            'default_hooks.checkpoint.max_keep_ckpts=-1',
            'default_hooks.logger.interval=1',
            'train_dataloader.batch_size=2']
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        opts += [f'{loader}.dataset.data_root={root}',
                 f'{loader}.num_workers=0',
                 f'{loader}.persistent_workers=False']
    return opts
