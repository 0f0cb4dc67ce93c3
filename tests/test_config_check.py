"""Bad input gives a clear error naming the key and the path or type."""
import os.path as osp
import shutil
import subprocess

import pytest
from mmengine.config import Config

from conftest import BASELINE_CONFIG, tool_cmd, tool_env, voc_dataset
from mmseg_lrp.utils import (ConfigError, check_data_paths,
                             explain_build_errors, find_type_keys)


def _cfg(root):
    cfg = Config.fromfile(BASELINE_CONFIG)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = root
    return cfg


def test_valid_paths_pass(toy_voc):
    root, _ = toy_voc
    check_data_paths(_cfg(root), ['train_dataloader', 'val_dataloader'])


def test_missing_data_root_names_key_and_path(tmp_path):
    missing = str(tmp_path / 'no_such_voc')
    with pytest.raises(ConfigError) as e:
        check_data_paths(_cfg(missing), ['train_dataloader'])
    assert 'train_dataloader.dataset.data_root' in str(e.value)
    assert missing in str(e.value)


def test_missing_split_file_names_it(toy_voc):
    root, _ = toy_voc
    cfg = _cfg(root)
    cfg.val_dataloader.dataset.ann_file = 'ImageSets/Segmentation/nope.txt'
    with pytest.raises(ConfigError, match='val_dataloader.dataset.ann_file'
                       r'.*ImageSets/Segmentation/nope\.txt'):
        check_data_paths(cfg, ['train_dataloader', 'val_dataloader'])


def test_pixel_split_is_checked_and_may_not_contradict_ann_file(toy_semi):
    """SemiVOCDataset's one-line split: its file is checked like an
    ann_file; a second, different split in datasets.0 is an error (at the
    config check and when the dataset is built), never a silent choice."""
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS

    from conftest import SEMI_CONFIG
    from mmseg_lrp.utils import set_dataset_options
    cfg = Config.fromfile(SEMI_CONFIG)
    set_dataset_options(cfg, toy_semi)
    cfg.train_dataloader.dataset.pixel_split = 'ImageSets/SemiSeg/nope.txt'
    with pytest.raises(ConfigError, match=r'train_dataloader.dataset.'
                       r'pixel_split: split file .*SemiSeg/nope'):
        check_data_paths(cfg, ['train_dataloader'])
    ds = cfg.train_dataloader.dataset
    ds.pixel_split = 'ImageSets/SemiSeg/paper_6_seed0.txt'
    ds.datasets[0].ann_file = 'ImageSets/SemiSeg/paper_12_seed0.txt'
    with pytest.raises(ConfigError, match='name different splits: set only '
                       'train_dataloader.dataset.pixel_split'):
        check_data_paths(cfg, ['train_dataloader'])
    init_default_scope('mmseg')
    with pytest.raises(ValueError, match='name different splits'):
        DATASETS.build(ds)


def test_missing_image_folder_inside_concat_dataset(toy_voc):
    root, _ = toy_voc
    cfg = _cfg(root)
    inner = cfg.train_dataloader.dataset
    inner.data_prefix = dict(img_path='JPEGImagez',
                             seg_map_path='SegmentationClass')
    cfg.train_dataloader.dataset = dict(type='ConcatDataset',
                                        datasets=[_cfg(root).val_dataloader
                                                  .dataset, inner])
    with pytest.raises(ConfigError, match=r'train_dataloader\.dataset\.'
                       r'datasets\.1\.data_prefix\.img_path.*JPEGImagez'):
        check_data_paths(cfg, ['train_dataloader'])


def test_unknown_component_names_key_and_suggests(toy_voc):
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    root, _ = toy_voc
    init_default_scope('mmseg')
    cfg = _cfg(root)
    cfg.model.decode_head.type = 'FCNHaed'
    assert find_type_keys(cfg.to_dict(),
                          'FCNHaed') == ['model.decode_head.type']
    with pytest.raises(ConfigError) as e:
        with explain_build_errors(cfg):
            MODELS.build(cfg.model)
    msg = str(e.value)
    assert 'model.decode_head.type' in msg and "'FCNHaed'" in msg
    assert "Did you mean 'FCNHead'" in msg


def test_other_key_errors_pass_through(toy_voc):
    root, _ = toy_voc
    with pytest.raises(KeyError, match='unrelated'):
        with explain_build_errors(_cfg(root)):
            raise KeyError('unrelated')


def test_corrupt_image_error_names_the_file(toy_voc, tmp_path):
    """An unreadable JPEG fails loudly with its path (mmcv's loader)."""
    root, ids = toy_voc
    copy = str(tmp_path / 'VOC2012')
    shutil.copytree(root, copy)
    victim = ids['seg_train'][0]
    bad = osp.join(copy, 'JPEGImages', f'{victim}.jpg')
    with open(bad, 'wb') as f:
        f.write(b'\xff\xd8 this is not a jpeg')
    ds = voc_dataset(copy, [dict(type='LoadImageFromFile')])
    index = [osp.basename(d['img_path']) for d in ds.load_data_list()
             ].index(f'{victim}.jpg')
    with pytest.raises(Exception, match=f'{victim}.jpg'):
        ds[index]


@pytest.mark.slow
def test_train_tool_reports_missing_data_root(tmp_path):
    missing = str(tmp_path / 'VOCdevkit' / 'VOC2012')
    res = subprocess.run(
        tool_cmd('train.py', BASELINE_CONFIG, '--work-dir', tmp_path / 'w',
                 '--cfg-options',
                 f'train_dataloader.dataset.data_root={missing}'),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=tool_env())
    assert res.returncode != 0
    last = res.stdout.strip().splitlines()[-1]
    assert last.startswith('mmseg_lrp.utils.config_check.ConfigError')
    assert 'train_dataloader.dataset.data_root' in last and missing in last
    # the fix it names (run in tests/test_bad_inputs.py)
    assert '--data-root /path/to/VOC2012' in last


@pytest.mark.slow
def test_train_tool_reports_unknown_component(toy_voc, tmp_path):
    root, _ = toy_voc
    res = subprocess.run(
        tool_cmd('train.py', BASELINE_CONFIG, '--work-dir', tmp_path / 'w',
                 '--cfg-options', 'model.backbone.type=UNett',
                 *[f'{k}.dataset.data_root={root}'
                   for k in ('train_dataloader', 'val_dataloader')]),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=tool_env())
    assert res.returncode != 0
    last = res.stdout.strip().splitlines()[-1]
    assert 'model.backbone.type' in last and "'UNett'" in last
    assert "Did you mean 'UNet'" in last
