"""The toy VOC: layout, determinism, label consistency, mmseg compatibility."""
import filecmp
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from conftest import voc_dataset
from mmseg_lrp.datasets import (TOY_CLASSES, VOC_CLASSES, build_world,
                                make_toy_voc, read_voc_xml_names, voc_palette)
from mmseg_lrp.datasets.toy_worlds import DIGIT_CLASSES, DigitsWorld


def _read_list(root, rel):
    with open(osp.join(root, rel)) as f:
        return [line.strip() for line in f if line.strip()]


def test_layout_and_splits(toy_voc):
    root, ids = toy_voc
    jpgs = sorted(os.listdir(osp.join(root, 'JPEGImages')))
    pngs = sorted(os.listdir(osp.join(root, 'SegmentationClass')))
    xmls = sorted(os.listdir(osp.join(root, 'Annotations')))
    assert len(jpgs) == len(xmls) == 24 + 4
    train = _read_list(root, 'ImageSets/Segmentation/train.txt')
    val = _read_list(root, 'ImageSets/Segmentation/val.txt')
    test = _read_list(root, 'ImageSets/Segmentation/test.txt')
    assert len(train) == 12 and len(val) == 8 and len(test) == 4
    assert not set(train) & set(val) and not set(test) & set(train + val)
    assert test == ids['seg_test'] == _read_list(root,
                                                 'ImageSets/Main/test.txt')
    # only the segmentation ids have masks, as in VOC
    assert pngs == sorted(f'{i}.png' for i in train + val + test)
    assert set(ids['image_only']) == {j[:-4] for j in jpgs} - set(
        train + val + test)
    main_train = _read_list(root, 'ImageSets/Main/train.txt')
    assert not set(main_train) & set(val + test)


def test_test_images_change_no_other_image(tmp_path):
    """Test images come from a stream of their own: with or without them
    every other file is byte-identical."""
    kw = dict(num_images=6, num_seg_train=2, num_seg_val=2, seed=5)
    make_toy_voc(str(tmp_path / 'a'), num_seg_test=0, **kw)
    ids = make_toy_voc(str(tmp_path / 'b'), num_seg_test=3, **kw)
    assert len(ids['seg_test']) == 3
    for i in range(6):
        for sub, ext in (('JPEGImages', 'jpg'), ('Annotations', 'xml')):
            assert filecmp.cmp(tmp_path / 'a' / sub / f'2012_{i:06d}.{ext}',
                               tmp_path / 'b' / sub / f'2012_{i:06d}.{ext}',
                               shallow=False)


def test_image_pool_of_the_toy_config_leaves_val_and_test_out(toy_semi):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmseg_lrp.datasets import VOCImageLabelDataset
    init_default_scope('mmseg')
    cfg = Config.fromfile(osp.join(
        osp.dirname(osp.dirname(osp.abspath(__file__))), 'configs',
        '_base_', 'datasets', 'toy_voc-semi.py'))
    pool_cfg = dict(cfg.image_pool, data_root=toy_semi, pipeline=[])
    pool_cfg.pop('type')
    pool = {d['img_id'] if 'img_id' in d else osp.basename(
        d['img_path'])[:-4] for d in VOCImageLabelDataset(
            **pool_cfg).load_data_list()}
    held = set(_read_list(toy_semi, 'ImageSets/Segmentation/val.txt') +
               _read_list(toy_semi, 'ImageSets/Segmentation/test.txt'))
    assert pool and not pool & held
    assert cfg.test_dataloader.dataset.ann_file.endswith('test.txt')


def test_masks_are_voc_palette_pngs_consistent_with_xml(toy_voc):
    root, ids = toy_voc
    palette = voc_palette()
    assert palette[1].tolist() == [128, 0, 0]  # VOC aeroplane colour
    assert palette[255].tolist() == [224, 224, 192]  # VOC void colour
    allowed = {0, 255} | {VOC_CLASSES.index(c) for c in TOY_CLASSES}
    seen_fg = set()
    for image_id in ids['seg_train'] + ids['seg_val']:
        png = Image.open(osp.join(root, 'SegmentationClass',
                                  f'{image_id}.png'))
        assert png.mode == 'P'
        assert np.array(png.getpalette()[:768]).reshape(-1, 3)[
            :256].tolist() == palette.tolist()
        mask = np.array(png)
        img = Image.open(osp.join(root, 'JPEGImages', f'{image_id}.jpg'))
        assert img.size == (mask.shape[1], mask.shape[0])
        values = set(np.unique(mask).tolist())
        assert values <= allowed
        assert 255 in values, 'objects must have VOC-style 255 borders'
        in_mask = {VOC_CLASSES[v] for v in values - {0, 255}}
        names = read_voc_xml_names(
            osp.join(root, 'Annotations', f'{image_id}.xml'))
        assert names, f'{image_id} has no object'
        # every class painted in the mask is named in the XML
        assert in_mask <= set(names)
        seen_fg |= in_mask
    assert len(seen_fg) >= 4, 'several foreground classes expected'


def test_non_square_sizes_in_range(toy_voc):
    root, ids = toy_voc
    sizes = [Image.open(osp.join(root, 'JPEGImages', f'{i}.jpg')).size
             for i in ids['seg_train']]
    assert all(64 <= s <= 80 for wh in sizes for s in wh)  # digits default
    assert any(w != h for w, h in sizes)


def test_deterministic_by_seed(tmp_path):
    kw = dict(num_images=6, num_seg_train=2, num_seg_val=2)
    make_toy_voc(str(tmp_path / 'a'), seed=7, **kw)
    make_toy_voc(str(tmp_path / 'b'), seed=7, **kw)
    make_toy_voc(str(tmp_path / 'c'), seed=8, **kw)
    for sub in ('JPEGImages', 'SegmentationClass', 'Annotations',
                'ImageSets/Segmentation'):
        files = sorted(os.listdir(tmp_path / 'a' / sub))
        assert files == sorted(os.listdir(tmp_path / 'b' / sub))
        match, mismatch, errors = filecmp.cmpfiles(
            tmp_path / 'a' / sub, tmp_path / 'b' / sub, files, shallow=False)
        assert match == files and not mismatch and not errors, sub
    files = sorted(os.listdir(tmp_path / 'a' / 'JPEGImages'))
    _, mismatch_c, _ = filecmp.cmpfiles(
        tmp_path / 'a' / 'JPEGImages', tmp_path / 'c' / 'JPEGImages', files,
        shallow=False)
    assert mismatch_c, 'another seed must give other images'


def test_refuses_to_overwrite_and_bad_arguments(tmp_path, toy_voc):
    root, _ = toy_voc
    with pytest.raises(FileExistsError, match='JPEGImages'):
        make_toy_voc(root, num_images=2, num_seg_train=1, num_seg_val=1)
    with pytest.raises(ValueError, match='exceeds num_images'):
        make_toy_voc(str(tmp_path / 'x'), num_images=3, num_seg_train=2,
                     num_seg_val=2)


def test_read_voc_xml_names_reports_bad_file(tmp_path):
    bad = tmp_path / 'broken.xml'
    bad.write_text('<annotation><object>')
    with pytest.raises(ValueError, match='broken.xml'):
        read_voc_xml_names(str(bad))


def test_mmseg_pascal_voc_dataset_reads_it_unchanged(toy_voc):
    """mmseg's own PascalVOCDataset + standard pipeline read the toy data."""
    root, ids = toy_voc
    ds = voc_dataset(root, [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations'),
        dict(type='PackSegInputs')
    ])
    assert len(ds) == 12
    sample = ds[0]
    image_id = osp.basename(sample['data_samples'].img_path)[:-4]
    expected = np.array(
        Image.open(osp.join(root, 'SegmentationClass', f'{image_id}.png')))
    got = sample['data_samples'].gt_sem_seg.data[0].numpy()
    np.testing.assert_array_equal(got, expected)
    assert sample['inputs'].shape[1:] == expected.shape


def test_digit_classes_are_balanced_and_distractors_unlabelled():
    """Classes are drawn uniformly: over 600 images each of the 6 classes
    is in 1/6 of the objects (within sampling noise); what the mask labels
    is listed in the objects (distractor digits are in neither)."""
    world = build_world('digits')
    counts = dict.fromkeys(TOY_CLASSES, 0)
    per_image = []
    for n in range(600):
        rng = np.random.default_rng([5, n])
        img, label, objects = world.render(rng, 72, 72)
        assert img.shape == (72, 72, 3) and img.dtype == np.uint8
        assert 1 <= len(objects) <= world.max_objects
        for o in objects:
            counts[o['name']] += 1
        per_image.append(len(objects))
        in_mask = {VOC_CLASSES[v] for v in np.unique(label) if v != 255}
        assert in_mask - {'background'} <= {o['name'] for o in objects}
    total = sum(counts.values())
    for name, c in counts.items():
        # binomial: sd = sqrt(total * 1/6 * 5/6) ~ 12 at total ~ 1100
        assert abs(c - total / 6) < 5 * (total * 5 / 36) ** 0.5, counts
    assert min(per_image) == 1 and max(per_image) == world.max_objects


def test_digit_val_images_use_held_out_scans():
    """Every scan is either training or val material, never both: every
    fifth scan of the file (360 of 1797) is held out, which is 15-26 % of
    each digit's scans."""
    world = DigitsWorld()
    held_out = 0
    for d in range(10):
        train, val = world.scans[(d, False)], world.scans[(d, True)]
        assert 0.14 < len(val) / (len(train) + len(val)) < 0.27
        flat_t = {t.tobytes() for t in train}
        assert not any(v.tobytes() in flat_t for v in val)
        held_out += len(val)
    assert held_out == 360
    assert set(DIGIT_CLASSES.values()).isdisjoint(
        {5, 6, 8, 9})  # the distractor digits


def test_mask_follows_the_glyph():
    """The labelled pixels are the object's strokes: bright (painted)
    pixels of the glyph, not a box around it."""
    world = build_world('digits', max_distractors=0)
    img, label, objects = world.render(np.random.default_rng(1), 80, 80)
    fg = (label > 0) & (label < 255)
    assert 0.02 < fg.mean() < 0.5
    for o in objects:
        x0, y0, x1, y1 = o['bbox']
        box = np.zeros_like(fg)
        box[y0 - 1:y1, x0 - 1:x1] = True
        cls = VOC_CLASSES.index(o['name'])
        # the glyph fills only part of its bounding box
        assert (label[box] == cls).mean() < 0.8


def test_shapes_world_is_still_available(tmp_path):
    ids = make_toy_voc(str(tmp_path / 's'), num_images=4, num_seg_train=2,
                       num_seg_val=1, world='shapes')
    sizes = [Image.open(tmp_path / 's' / 'JPEGImages' / f'{i}.jpg').size
             for i in ids['seg_train']]
    assert all(96 <= v <= 128 for wh in sizes for v in wh)
    with pytest.raises(ValueError, match="unknown toy world 'cubes'"):
        make_toy_voc(str(tmp_path / 'c'), num_images=2, num_seg_train=1,
                     num_seg_val=1, world='cubes')


@pytest.mark.parametrize('name', ['photos', 'photos-clutter'])
def test_photos_worlds(name):
    """Objects drawn from photographed textures: masks of toy classes with
    255 borders, every painted class in the object list, distractors in
    the clutter world."""
    world = build_world(name)
    seen = set()
    for n in range(12):
        rng = np.random.default_rng([0, 0, n])
        img, label, objects = world.render(rng, 80, 96, val=n % 2 == 1)
        assert img.shape == (80, 96, 3) and img.dtype == np.uint8
        painted = {VOC_CLASSES[v]
                   for v in set(np.unique(label).tolist()) - {0, 255}}
        assert painted and painted <= {o['name'] for o in objects}
        assert 255 in label
        seen |= painted
    assert len(seen) >= 4


def test_photos_world_keeps_val_texture_apart():
    """Training images cut the top 3/4 of a photograph, val/test images the
    rest: read back from a photograph whose rows are numbered."""
    from mmseg_lrp.datasets.toy_worlds.photos import TRAIN_PART, _patch
    photo = np.repeat(np.arange(200, dtype=np.float32)[:, None, None], 300,
                      1).repeat(3, 2)
    rng = np.random.default_rng(0)
    split = int(200 * TRAIN_PART)
    for _ in range(20):
        train = _patch(rng, photo, 20, 20, False, (1.0, 3.0))
        held = _patch(rng, photo, 20, 20, True, (1.0, 3.0))
        assert train.max() < split and held.min() >= split
