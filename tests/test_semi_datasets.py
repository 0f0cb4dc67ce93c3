"""Semi-supervised VOC pools: datasets, image-level labels, loading."""
import os
import os.path as osp
import shutil

import numpy as np
import pytest
from PIL import Image

import mmseg_lrp.plugin  # noqa: F401
from mmseg_lrp.datasets import VOC_CLASSES
from mmseg_lrp.datasets.voc_labels import (collect_image_labels,
                                           read_label_cache,
                                           write_label_cache)

PIXEL = dict(img_path='JPEGImages', seg_map_path='SegmentationClass')


@pytest.fixture
def voc(toy_voc, tmp_path):
    """A private copy of the session's toy VOC, free to modify, laid out as
    VOC 2012 itself (the toy data's extra test split removed)."""
    root = str(tmp_path / 'VOC2012')
    shutil.copytree(toy_voc[0], root)
    for i in toy_voc[1]['seg_test']:
        for sub, ext in (('JPEGImages', 'jpg'), ('Annotations', 'xml'),
                         ('SegmentationClass', 'png')):
            os.remove(osp.join(root, sub, f'{i}.{ext}'))
    for rel in ('ImageSets/Segmentation/test.txt', 'ImageSets/Main/test.txt'):
        os.remove(osp.join(root, rel))
    return root, dict(toy_voc[1], seg_test=[])


def ids_of(root, rel):
    with open(osp.join(root, rel)) as f:
        return [line.strip() for line in f if line.strip()]


def write_xml(root, image_id, names):
    objs = ''.join(f'<object><name>{n}</name></object>' for n in names)
    with open(osp.join(root, 'Annotations', f'{image_id}.xml'), 'w') as f:
        f.write(f'<annotation><filename>{image_id}.jpg</filename>{objs}'
                '</annotation>')


def pixel_ds(root, ann_file='ImageSets/Segmentation/train.txt', **kw):
    from mmengine.registry import init_default_scope
    from mmseg_lrp.datasets import VOCPixelLabelDataset
    init_default_scope('mmseg')
    return VOCPixelLabelDataset(data_root=root, data_prefix=PIXEL,
                                ann_file=ann_file, **kw)


def image_ds(root, **kw):
    from mmengine.registry import init_default_scope
    from mmseg_lrp.datasets import VOCImageLabelDataset
    init_default_scope('mmseg')
    return VOCImageLabelDataset(data_root=root,
                                data_prefix=dict(img_path='JPEGImages'),
                                **kw)


# -- pixel-labelled pool -----------------------------------------------------
def test_pixel_pool_reads_split_and_flags_samples(voc):
    root, ids = voc
    ds = pixel_ds(root)
    assert [d['img_id'] for d in ds.load_data_list()] == ids['seg_train']
    info = ds.get_data_info(0)
    assert info['has_pixel_label'] is True and info['num_classes'] == 21
    assert info['seg_map_path'].endswith(f'{ids["seg_train"][0]}.png')


@pytest.mark.parametrize('bad, match', [
    (['2012_999999'], r'split\.txt names id 2012_999999, but its image'),
    (None, r'names id .*, but its mask'),
    ([], r'split\.txt: the split file is empty'),
    ('dup', r'id .* is listed twice'),
])
def test_pixel_pool_bad_split_file_names_file_and_id(voc, bad, match):
    root, ids = voc
    lst = ids['seg_train'][:2]
    if bad is None:  # an image-only id: image exists, mask does not
        lst = lst + [ids['image_only'][0]]
    elif bad == 'dup':
        lst = lst + lst[:1]
    elif not bad:
        lst = []
    else:
        lst = lst + bad
    with open(osp.join(root, 'split.txt'), 'w') as f:
        f.write(''.join(f'{i}\n' for i in lst))
    with pytest.raises((FileNotFoundError, ValueError), match=match):
        pixel_ds(root, 'split.txt')


def test_pixel_pool_refuses_missing_mask_folder(voc):
    root, _ = voc
    from mmengine.registry import init_default_scope
    from mmseg_lrp.datasets import VOCPixelLabelDataset
    init_default_scope('mmseg')
    with pytest.raises(KeyError, match='seg_map_path'):
        VOCPixelLabelDataset(data_root=root,
                             data_prefix=dict(img_path='JPEGImages'),
                             ann_file='ImageSets/Segmentation/train.txt')


# -- image-level pool --------------------------------------------------------
def test_image_pool_is_every_image_but_val(voc):
    root, ids = voc
    ds = image_ds(root)
    got = [d['img_id'] for d in ds.load_data_list()]
    # pixel-labelled training images stay in the pool, as in the original
    assert got == sorted(ids['seg_train'] + ids['image_only'])
    info = ds.get_data_info(0)
    assert info['has_pixel_label'] is False and 'seg_map_path' not in info

    # keeping the pools disjoint is one option away
    ds = image_ds(root, exclude_files=['ImageSets/Segmentation/val.txt',
                                       'ImageSets/Segmentation/train.txt'])
    assert [d['img_id']
            for d in ds.load_data_list()] == sorted(ids['image_only'])


def test_image_labels_come_from_the_xml(voc):
    root, ids = voc
    a, b = ids['image_only'][:2]
    write_xml(root, a, ['person', 'cat', 'person'])
    write_xml(root, b, [])
    ds = image_ds(root)
    infos = {d['img_id']: d for d in ds.load_data_list()}
    person, cat = VOC_CLASSES.index('person'), VOC_CLASSES.index('cat')
    assert infos[a]['img_labels'] == sorted([0, person, cat])
    assert infos[b]['img_labels'] == [0]  # background only
    assert infos[a]['num_classes'] == 21


def test_image_labels_follow_a_class_subset(voc):
    root, ids = voc
    a = ids['image_only'][0]
    write_xml(root, a, ['person', 'cat', 'dog'])
    classes = ('background', 'cat', 'person')
    # the other classes of the data are refused unless left out on purpose
    with pytest.raises(ValueError, match=r"'dog' in 1 image\(s\)"):
        image_ds(root, metainfo=dict(classes=classes))
    ds = image_ds(root, metainfo=dict(classes=classes),
                  unlisted_classes='ignore')
    (info, ) = [d for d in ds.load_data_list() if d['img_id'] == a]
    # dog is not in the subset: dropped, as the label_map drops its pixels
    assert info['img_labels'] == [0, 1, 2] and info['num_classes'] == 3


def test_unknown_class_in_xml_names_file_and_class(voc):
    root, ids = voc
    a = ids['image_only'][1]
    write_xml(root, a, ['person', 'unicorn'])
    with pytest.raises(ValueError, match=rf'{a}\.xml.*unicorn'):
        image_ds(root)


def test_missing_xml_names_the_id(voc):
    root, ids = voc
    a = ids['image_only'][2]
    os.remove(osp.join(root, 'Annotations', f'{a}.xml'))
    with pytest.raises(FileNotFoundError, match=rf'image {a}: annotation'):
        image_ds(root)


def test_empty_image_pool_is_an_error(voc):
    root, _ = voc
    with pytest.raises(ValueError, match='empty image pool'):
        image_ds(root, exclude_files=['ImageSets/Main/trainval.txt'])


def test_label_cache_matches_xmls_and_names_missing_ids(voc):
    root, ids = voc
    all_ids = sorted(ids['seg_train'] + ids['seg_val'] + ids['image_only'])
    labels = collect_image_labels(osp.join(root, 'Annotations'), all_ids)
    write_label_cache(osp.join(root, 'labels.json'), labels)
    from_xml = image_ds(root).load_data_list()
    from_cache = image_ds(root, labels_file='labels.json').load_data_list()
    assert from_xml == from_cache
    del labels[ids['image_only'][0]]
    write_label_cache(osp.join(root, 'labels.json'), labels)
    with pytest.raises(KeyError, match=ids['image_only'][0]):
        read_label_cache(osp.join(root, 'labels.json'), all_ids)


def test_pools_concatenate_with_mmengine(voc):
    from mmengine.dataset import ConcatDataset
    root, ids = voc
    cat = ConcatDataset([pixel_ds(root), image_ds(root)])
    flags = [cat.get_data_info(i)['has_pixel_label'] for i in range(len(cat))]
    assert flags.count(True) == len(ids['seg_train'])
    assert flags.count(False) == len(ids['seg_train'] + ids['image_only'])


# -- loading -----------------------------------------------------------------
def test_image_level_samples_never_open_a_mask(voc, monkeypatch):
    """The pool includes pixel-labelled ids, whose masks exist on disk:
    still no mask may be read for an image-level sample."""
    from mmengine import fileio
    root, ids = voc
    opened = []
    real_get = fileio.get

    def spy(path, *a, **kw):
        opened.append(str(path))
        return real_get(path, *a, **kw)

    monkeypatch.setattr(fileio, 'get', spy)
    pipeline = [dict(type='LoadCheckedImageFromFile'),
                dict(type='LoadSemiAnnotations'),
                dict(type='PackSemiSegInputs')]
    ds = image_ds(root, pipeline=pipeline)
    for i in range(len(ds)):
        out = ds[i]
        seg = out['data_samples'].gt_sem_seg.data
        assert (seg == 255).all()
        assert out['data_samples'].has_pixel_label is False
        y = out['data_samples'].gt_img_labels.data
        assert y.shape == (21, ) and y[0] == 1
    assert opened and not [p for p in opened if p.endswith('.png')]
    assert len(opened) == len(ds)


def test_mask_of_another_size_is_an_error(voc):
    root, ids = voc
    i = ids['seg_train'][0]
    path = osp.join(root, 'SegmentationClass', f'{i}.png')
    mask = Image.open(path)
    mask.crop((0, 0, mask.width - 3, mask.height)).save(path)
    pipeline = [dict(type='LoadCheckedImageFromFile'),
                dict(type='LoadSemiAnnotations')]
    # found when the dataset is built (the start-up mask check) ...
    with pytest.raises(ValueError, match=rf'{i}\.png is .*would not line'):
        pixel_ds(root, pipeline=pipeline)
    # ... and, without that check, when the sample is loaded
    ds = pixel_ds(root, pipeline=pipeline, check_masks=False)
    with pytest.raises(ValueError, match=rf'{i}\.png: mask size'):
        ds[0]


def test_truncated_jpeg_is_an_error_naming_file_and_id(voc):
    from mmseg_lrp.datasets.transforms import LoadCheckedImageFromFile
    root, ids = voc
    i = ids['image_only'][0]
    path = osp.join(root, 'JPEGImages', f'{i}.jpg')
    data = open(path, 'rb').read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 2])
    # OpenCV alone decodes the truncated file without complaint
    import cv2
    assert cv2.imread(path) is not None
    with pytest.raises(ValueError, match=rf'{i}\.jpg \(id {i}\).*truncated'):
        LoadCheckedImageFromFile()(dict(img_path=path, img_id=i))
    with pytest.warns(UserWarning, match='skipped'):
        assert LoadCheckedImageFromFile(on_corrupt='skip')(
            dict(img_path=path, img_id=i)) is None
    with open(path, 'wb') as f:
        f.write(b'not an image at all')
    with pytest.raises(ValueError, match=rf'{i}\.jpg.*cannot decode'):
        LoadCheckedImageFromFile()(dict(img_path=path, img_id=i))


def test_intact_images_load_as_mmcv_loads_them(voc):
    from mmcv.transforms import LoadImageFromFile

    from mmseg_lrp.datasets.transforms import LoadCheckedImageFromFile
    root, ids = voc
    for i in ids['seg_val'][:3]:
        path = osp.join(root, 'JPEGImages', f'{i}.jpg')
        ours = LoadCheckedImageFromFile()(dict(img_path=path))
        ref = LoadImageFromFile()(dict(img_path=path))
        np.testing.assert_array_equal(ours['img'], ref['img'])
        assert ours['ori_shape'] == ref['ori_shape']


# -- the VOC 2012 dataset configs, pointed at the toy VOC -------------------
@pytest.mark.parametrize('name', ['voc12-semi.py', 'voc12-semi_paper-eval.py'])
def test_voc12_dataset_configs_build_and_load(toy_semi, name):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS
    from conftest import ROOT
    init_default_scope('mmseg')
    cfg = Config.fromfile(osp.join(ROOT, 'configs', '_base_', 'datasets',
                                   name))
    train = cfg.train_dataloader.dataset
    for ds in train.datasets:
        ds.data_root = toy_semi
    train.pixel_split = 'ImageSets/SemiSeg/paper_6_seed0.txt'
    cfg.val_dataloader.dataset.data_root = toy_semi
    train_ds = DATASETS.build(train)
    assert type(train_ds).__name__ == 'SemiVOCDataset'
    assert (train_ds.datasets[0].ann_file ==
            osp.join(toy_semi, 'ImageSets/SemiSeg/paper_6_seed0.txt'))
    # split + (train + image-only + the toy data's test images: VOC's own
    # pool is every image but val)
    assert len(train_ds) == 6 + 12 + 4 + 4
    for i in (0, len(train_ds) - 1):
        out = train_ds[i]
        assert out['inputs'].shape == (3, 256, 256)
        assert 'gt_img_labels' in out['data_samples']
    val = DATASETS.build(cfg.val_dataloader.dataset)[0]
    seg = val['data_samples'].gt_sem_seg.data
    if 'paper' in name:
        assert seg.shape[-2:] == (256, 256) and not (seg == 255).any()
        assert val['data_samples'].ori_shape == (256, 256)
    else:
        assert seg.shape[-2:] == val['data_samples'].ori_shape
        assert (seg == 255).any()  # object borders stay ignored


def test_optional_exclusions_apply_where_the_list_exists(voc):
    """The toy configs leave the test split out of the image pool where the
    data has one; data without it (VOC, own data) builds the same pool as
    before, and a missing mandatory list is still an error."""
    root, ids = voc
    opt = dict(optional_exclude_files=['ImageSets/Segmentation/test.txt'])
    pool = [d['img_id'] for d in image_ds(root, **opt).load_data_list()]
    assert pool == sorted(ids['seg_train'] + ids['image_only'])
    held = ids['image_only'][:2]
    with open(osp.join(root, 'ImageSets/Segmentation/test.txt'), 'w') as f:
        f.write(''.join(f'{i}\n' for i in held))
    pool = [d['img_id'] for d in image_ds(root, **opt).load_data_list()]
    assert pool == sorted(set(ids['seg_train'] + ids['image_only']) -
                          set(held))
    with pytest.raises(FileNotFoundError):
        image_ds(root, exclude_files=['ImageSets/Segmentation/nope.txt'])
