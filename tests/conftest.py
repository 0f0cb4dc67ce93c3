import logging
import os
import os.path as osp
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
BASELINE_CONFIG = osp.join(
    ROOT, 'configs', 'baselines',
    'unet-s4-d8-c16_fcn_1xb8-800iter_toyvoc-96x96.py')
# the semi-supervised unrolled-LRP config of `make demo`
SEMI_CONFIG = osp.join(ROOT, 'configs', 'unrolled_lrp',
                       'unrolled-lrp_vgg16_1xb8-200iter_toyvoc-semi-64x64.py')


def gradient_x_input(z, x, create_graph=False):
    """The oracle of LRP-0 heatmaps: per class k, ``d z_k / d x * x``
    summed over channels, ``(N, K, H, W)``, by autograd (``x`` must require
    grad); with ``create_graph`` differentiable again (double backprop)."""
    import torch
    return torch.stack([
        (torch.autograd.grad(z[:, k].sum(), x, retain_graph=True,
                             create_graph=create_graph)[0] * x).sum(1)
        for k in range(z.shape[1])
    ], 1)


def pytest_configure(config):
    config.addinivalue_line('markers', 'slow: end-to-end tests (runner, CLI)')


def _family(cls):
    yield cls
    for sub in cls.__subclasses__():
        yield from _family(sub)


@pytest.fixture(autouse=True)
def fresh_runner_globals():
    """Each test starts without the previous test's runner globals.

    mmengine keeps visualizers, loggers and message hubs as named,
    process-wide instances, and mmseg's runtime names its visualizer
    'visualizer': a second in-process Runner would reuse the first one's
    (its save_dir inside a temporary directory pytest has since deleted).
    """
    yield
    from mmengine.logging import MessageHub, MMLogger
    from mmengine.visualization import Visualizer
    for cls in _family(Visualizer):
        cls._instance_dict.clear()
    for logger in MMLogger._instance_dict.values():
        for handler in list(logger.handlers):
            if isinstance(handler, logging.FileHandler):
                handler.close()
                logger.removeHandler(handler)
    MMLogger._instance_dict.clear()
    MessageHub._instance_dict.clear()


@pytest.fixture(scope='session')
def toy_voc(tmp_path_factory):
    """A small toy VOC (session-wide): 24 images, 12 train / 8 val masks,
    and 4 test images."""
    from mmseg_lrp.datasets import make_toy_voc
    root = str(tmp_path_factory.mktemp('toy') / 'VOC2012')
    ids = make_toy_voc(root, num_images=24, num_seg_train=12, num_seg_val=8,
                       num_seg_test=4, seed=3)
    return root, ids


@pytest.fixture(scope='session')
def toy_semi(toy_voc):
    """The session toy VOC plus what the semi-supervised configs read: the
    image-label cache and a 6-image paper-protocol split."""
    from mmseg_lrp.datasets.splits import select_pixel_ids
    from mmseg_lrp.datasets.voc_labels import (collect_image_labels,
                                               write_label_cache)
    root, ids = toy_voc
    every = sorted(ids['seg_train'] + ids['seg_val'] + ids['image_only'] +
                   ids['seg_test'])
    labels = collect_image_labels(osp.join(root, 'Annotations'), every)
    write_label_cache(osp.join(root, 'ImageLabels.json'), labels)
    split = select_pixel_ids({i: labels[i] for i in ids['seg_train']}, 6)
    os.makedirs(osp.join(root, 'ImageSets', 'SemiSeg'), exist_ok=True)
    with open(osp.join(root, 'ImageSets', 'SemiSeg', 'paper_6_seed0.txt'),
              'w') as f:
        f.write(''.join(f'{i}\n' for i in split))
    return root


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


def semi_cfg_options(root, max_iters, interval, split=None):
    """--cfg-options pointing a toy_voc-semi config at ``root`` (see
    :func:`toy_semi`): few iterations, batches of 1 + 1, no workers."""
    opts = toy_cfg_options(root, max_iters, interval)
    opts = [o for o in opts if not o.startswith('train_dataloader.dataset.')]
    opts += ['train_dataloader.batch_size=2',
             'train_dataloader.batch_sampler.num_pixel_labelled=1']
    for i in (0, 1):
        opts.append(f'train_dataloader.dataset.datasets.{i}.data_root={root}')
    opts.append('train_dataloader.dataset.pixel_split='
                + (split or 'ImageSets/SemiSeg/paper_6_seed0.txt'))
    return opts


def write_voc_sample(root, image_id, img, mask, objects, quality=75):
    """Write one sample in the VOC layout: ``JPEGImages/ID.jpg``, its XML
    (``objects`` as :func:`mmseg_lrp.datasets.toy_voc.voc_xml` takes them)
    and, unless ``mask`` is None, a palette PNG in ``SegmentationClass``."""
    from PIL import Image

    from mmseg_lrp.datasets.toy_voc import voc_palette, voc_xml
    h, w = img.shape[:2]
    Image.fromarray(img).save(
        osp.join(root, 'JPEGImages', f'{image_id}.jpg'), quality=quality)
    with open(osp.join(root, 'Annotations', f'{image_id}.xml'), 'wb') as f:
        f.write(voc_xml(image_id, h, w, objects))
    if mask is not None:
        png = Image.fromarray(mask, mode='P')
        png.putpalette(voc_palette().flatten().tolist())
        png.save(osp.join(root, 'SegmentationClass', f'{image_id}.png'))


def write_segmentation_lists(root, ids):
    """``ImageSets/Segmentation/{train,val}.txt`` from ``{split: ids}``."""
    for split in ('train', 'val'):
        with open(osp.join(root, 'ImageSets', 'Segmentation', f'{split}.txt'),
                  'w') as f:
            f.write(''.join(f'{i}\n' for i in ids[split]))
