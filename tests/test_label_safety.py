"""Issue #24: labels that are silently wrong.

* The image-label cache (``voc_image_labels.py``) records the XMLs it was
  read from; a cache that no longer matches them (an edited, deleted or
  added XML, or a label run that failed) is refused with the files named
  and the command that rebuilds it.
* The ``--classes`` line that an :class:`UnlistedClassError` suggests is
  right for the data: pasted, every class's pixels are counted as that
  class (own data whose masks number their own list included).
"""
import argparse
import json
import os
import os.path as osp
import re
import runpy
import shlex
import shutil
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import mmseg_lrp.plugin  # noqa: F401
from conftest import (ROOT, SEMI_CONFIG, write_segmentation_lists,
                      write_voc_sample)
from mmseg_lrp.datasets import VOCImageLabelDataset
from mmseg_lrp.datasets.class_names import VOC_CLASSES, UnlistedClassError
from mmseg_lrp.datasets.voc_labels import (collect_image_labels,
                                           read_label_cache,
                                           write_label_cache)
from mmseg_lrp.utils import add_dataset_args
from mmseg_lrp.utils.tool_config import load_tool_config

TOOL = osp.join(ROOT, 'tools', 'dataset_converters', 'voc_image_labels.py')
TOY7 = ('background', 'aeroplane', 'bicycle', 'bird', 'car', 'cat', 'person')
SPLIT = 'ImageSets/SemiSeg/all_train.txt'


def make_data(root, names, n_train=6, n_val=3, n_image=6, voc_indexed=False):
    """A VOC-layout folder: 32 px images with one or two 12 px squares in
    two fixed slots (never overlapping), so the XML boxes are the truth of
    every pixel. Mask value of ``names[k]``: ``k + 1`` (the dataset's own
    list), or its VOC index with ``voc_indexed``. Every class is alone in
    some image. Returns ``{split: ids}``."""
    rng = np.random.default_rng(0)
    for d in ('JPEGImages', 'SegmentationClass', 'Annotations',
              'ImageSets/Segmentation', 'ImageSets/SemiSeg'):
        os.makedirs(osp.join(root, d), exist_ok=True)
    ids = {'train': [], 'val': [], 'image': []}
    splits = ['train'] * n_train + ['val'] * n_val + ['image'] * n_image
    for n, split in enumerate(splits):
        i = f'2099_{n:04d}'
        if n < len(names):  # each class alone once
            ks = [n]
        else:
            ks = sorted(set(rng.integers(0, len(names), 2).tolist()))
        img = np.full((32, 32, 3), 30, np.uint8)
        mask = np.zeros((32, 32), np.uint8)
        objects = []
        for slot, k in enumerate(ks):
            y = x = 2 + 16 * slot
            value = VOC_CLASSES.index(names[k]) if voc_indexed else k + 1
            img[y:y + 12, x:x + 12] = 60 + 40 * k
            mask[y:y + 12, x:x + 12] = value
            objects.append(dict(name=names[k], truncated=0,
                                bbox=(x, y, x + 12, y + 12)))
        write_voc_sample(root, i, img, None if split == 'image' else mask,
                         objects)
        ids[split].append(i)
    write_segmentation_lists(root, ids)
    with open(osp.join(root, SPLIT), 'w') as f:
        f.write(''.join(f'{i}\n' for i in ids['train']))
    return ids


def run_tool(monkeypatch, *args):
    """tools/dataset_converters/voc_image_labels.py in this process."""
    monkeypatch.setattr(sys, 'argv', [TOOL, *map(str, args)])
    runpy.run_path(TOOL, run_name='__main__')


def image_pool(root, classes=('background', 'cat', 'dog'), **kwargs):
    from mmengine.registry import init_default_scope
    init_default_scope('mmseg')
    kwargs.setdefault('labels_file', 'ImageLabels.json')
    return VOCImageLabelDataset(
        data_root=root, metainfo=dict(classes=classes),
        data_prefix=dict(img_path='JPEGImages'), **kwargs)


def infos(ds):
    """Every sample's info (``data_list`` is emptied once serialized)."""
    return [ds.get_data_info(i) for i in range(len(ds))]


def rebuild_command(msg):
    """The voc_image_labels.py arguments a message tells to run."""
    m = re.search(r'python (\S*voc_image_labels\.py .*)$', msg, re.M)
    assert m, msg
    args = shlex.split(m.group(1))
    assert args[0] == 'tools/dataset_converters/voc_image_labels.py', msg
    return args[1:]


def rewrite_xml(path, old, new):
    with open(path) as f:
        text = f.read()
    assert f'>{old}<' in text
    with open(path, 'w') as f:
        f.write(text.replace(f'>{old}<', f'>{new}<'))


# --- 3. the image-label cache and its XMLs ---------------------------------


@pytest.fixture
def cached(tmp_path, monkeypatch):
    """Own data (cat, dog) with the cache written by the tool."""
    root = str(tmp_path / 'VOC2012')
    ids = make_data(root, ('cat', 'dog'))
    run_tool(monkeypatch, root)
    return root, ids


def xml_of(root, ids, name):
    """An image-only id whose XML names ``name``, and its XML path."""
    for i in ids['image']:
        path = osp.join(root, 'Annotations', f'{i}.xml')
        if f'>{name}<' in open(path).read():
            return i, path
    raise AssertionError(name)


def test_a_fresh_cache_validates_and_a_copy_keeps_it_valid(cached, tmp_path):
    root, ids = cached
    pool = image_pool(root)
    from_xml = image_pool(root, labels_file=None)
    assert infos(pool) == infos(from_xml) and len(pool) == 12
    copy = str(tmp_path / 'copy')  # copytree keeps sizes and mtimes
    shutil.copytree(root, copy)
    assert len(image_pool(copy)) == len(pool)


def test_an_edited_xml_makes_the_cache_stale(cached, monkeypatch):
    """cat -> dog in one XML after the cache: refused, naming the XML and
    the command; that command makes the labels follow the XML."""
    root, ids = cached
    i, path = xml_of(root, ids, 'cat')
    rewrite_xml(path, 'cat', 'dog')
    with pytest.raises(ValueError) as e:
        image_pool(root)
    msg = str(e.value)
    assert 'changed' in msg and path in msg and '1 XML' in msg, msg
    args = rebuild_command(msg)
    run_tool(monkeypatch, *args)
    pool = image_pool(root)
    labels = {d['img_id']: d['img_labels'] for d in infos(pool)}
    assert 1 not in labels[i] and 2 in labels[i]  # cat gone, dog there


def test_a_misspelt_name_is_not_trained_on_from_the_old_cache(cached):
    """The issue's case: cat -> persn; the old cache would still say cat."""
    root, ids = cached
    _, path = xml_of(root, ids, 'cat')
    rewrite_xml(path, 'cat', 'persn')
    with pytest.raises(ValueError, match=re.escape(path)):
        image_pool(root)


def test_a_failed_label_run_leaves_no_valid_looking_cache(cached,
                                                          monkeypatch):
    """A malformed XML: the tool fails and the old cache is refused after
    it, naming the XML (not trained on with exit 0)."""
    root, ids = cached
    _, path = xml_of(root, ids, 'dog')
    with open(path, 'a') as f:
        f.write('<annotation>')  # not well-formed any more
    with pytest.raises(ValueError, match='not a valid VOC XML'):
        run_tool(monkeypatch, root)
    with pytest.raises(ValueError) as e:
        image_pool(root)
    assert path in str(e.value) and 'changed' in str(e.value)
    assert rebuild_command(str(e.value)) == [root]


def test_a_deleted_xml_makes_the_cache_stale(cached, monkeypatch):
    root, ids = cached
    _, path = xml_of(root, ids, 'cat')
    os.remove(path)
    with pytest.raises(FileNotFoundError, match='annotation XML not found'):
        run_tool(monkeypatch, root)  # the label run fails ...
    with pytest.raises(ValueError) as e:  # ... and the old cache is refused
        image_pool(root)
    msg = str(e.value)
    assert 'missing' in msg and path in msg and rebuild_command(msg) == [root]


def test_an_added_image_is_named_with_the_command(cached):
    root, ids = cached
    new = '2099_9999'
    shutil.copy(osp.join(root, 'JPEGImages', f'{ids["image"][0]}.jpg'),
                osp.join(root, 'JPEGImages', f'{new}.jpg'))
    xml = osp.join(root, 'Annotations', f'{new}.xml')
    shutil.copy(osp.join(root, 'Annotations', f'{ids["image"][0]}.xml'), xml)
    with pytest.raises(KeyError) as e:  # as before: no labels for the id
        image_pool(root)
    msg = str(e.value)
    assert 'added' in msg and xml in msg and rebuild_command(msg) == [root]


def test_many_stale_files_are_counted_not_all_listed(cached):
    root, ids = cached
    xmls = sorted(osp.join(root, 'Annotations', f) for f in os.listdir(
        osp.join(root, 'Annotations')))
    for p in xmls:
        os.utime(p, ns=(0, 0))
    with pytest.raises(ValueError) as e:
        image_pool(root, exclude_files=[])
    msg = str(e.value)
    assert f'{len(xmls)} XML file(s) changed' in msg, msg
    assert sum(p in msg for p in xmls) == 5, msg  # the first few only


def test_an_old_version_cache_names_the_rebuild_command(cached):
    root, _ = cached
    path = osp.join(root, 'ImageLabels.json')
    with open(path) as f:
        cache = json.load(f)
    cache = dict(version=1, classes=cache['classes'], labels=cache['labels'])
    with open(path, 'w') as f:
        json.dump(cache, f)
    with pytest.raises(ValueError, match='version 1') as e:
        image_pool(root)
    assert rebuild_command(str(e.value)) == [root]


def test_the_rebuild_command_repeats_the_tool_options(tmp_path, monkeypatch):
    root = str(tmp_path / 'VOC2012')
    ids = make_data(root, ('cat', 'dog'))
    run_tool(monkeypatch, root, '--ids', 'ImageSets/Segmentation/train.txt',
             '--out', 'labels/train.json')
    _, path = xml_of(root, {'image': ids['train']}, 'cat')
    rewrite_xml(path, 'cat', 'dog')
    with pytest.raises(ValueError) as e:
        image_pool(root, ann_file='ImageSets/Segmentation/train.txt',
                   labels_file='labels/train.json')
    assert rebuild_command(str(e.value)) == [
        root, '--ids', 'ImageSets/Segmentation/train.txt', '--out',
        'labels/train.json']


def test_a_write_that_fails_keeps_the_old_cache(cached, monkeypatch):
    """The cache is replaced at once (temporary file + os.replace): a
    write that fails half-way leaves the old file whole, and no litter."""
    root, _ = cached
    path = osp.join(root, 'ImageLabels.json')
    before = open(path).read()
    import mmseg_lrp.datasets.voc_labels as vl

    def broken_dump(obj, f, **kwargs):
        f.write('{"version": ')
        raise OSError('disk full')

    monkeypatch.setattr(vl.json, 'dump', broken_dump)
    with pytest.raises(OSError, match='disk full'):
        write_label_cache(path, {'x': ['cat']})
    monkeypatch.undo()
    assert open(path).read() == before
    assert sorted(os.listdir(root)) == sorted([
        'Annotations', 'ImageLabels.json', 'ImageSets', 'JPEGImages',
        'SegmentationClass'])


def test_labels_not_from_xmls_are_accepted(tmp_path):
    """A cache whose labels do not come from XMLs (images without one, e.g.
    labels taken from elsewhere): valid while no XML appears for them."""
    root = str(tmp_path / 'VOC2012')
    ids = make_data(root, ('cat', 'dog'))
    every = sorted(i for v in ids.values() for i in v)
    labels = collect_image_labels(osp.join(root, 'Annotations'), every)
    gone = ids['image'][0]
    os.remove(osp.join(root, 'Annotations', f'{gone}.xml'))
    labels[gone] = ['dog']  # from somewhere else
    # written the way tests/conftest.py writes it (no ann_dir argument)
    write_label_cache(osp.join(root, 'ImageLabels.json'), labels)
    pool = image_pool(root)
    assert {d['img_id']: d['img_labels'] for d in infos(pool)}[gone] == [
        0, 2]
    assert read_label_cache(osp.join(root, 'ImageLabels.json'))[gone] == [
        'dog']


def test_the_toy_generator_and_its_cache_validate(toy_semi, toy_voc,
                                                  tmp_path, monkeypatch):
    """The session toy VOC's cache (conftest) validates, and so does one
    written by the tool after make_toy_voc."""
    ds = image_pool(toy_semi, TOY7,
                    optional_exclude_files=['ImageSets/Segmentation/'
                                            'test.txt'])
    assert len(ds) == len(toy_voc[1]['seg_train'] + toy_voc[1]['image_only'])
    from mmseg_lrp.datasets import make_toy_voc
    root = str(tmp_path / 'toy')
    make_toy_voc(root, num_images=10, num_seg_train=3, num_seg_val=2,
                 num_seg_test=2, seed=1)
    run_tool(monkeypatch, root)
    assert len(image_pool(root, TOY7)) == 10 - 2 + 2


# --- 4. the --classes line of an UnlistedClassError -------------------------


def xml_pixel_counts(root, ids, classes):
    """Pixels of each class by the XML boxes (the truth)."""
    counts = np.zeros(len(classes), np.int64)
    for i in ids:
        tree = ET.parse(osp.join(root, 'Annotations', f'{i}.xml'))
        for o in tree.iter('object'):
            b = [int(o.find('bndbox').findtext(k))
                 for k in ('xmin', 'ymin', 'xmax', 'ymax')]
            area = (b[2] - b[0]) * (b[3] - b[1])
            counts[classes.index(o.findtext('name'))] += area
            counts[0] -= area
        counts[0] += 32 * 32
    return counts


def loaded_pixel_counts(pool, num_classes):
    """Pixels of each class as the dataset's samples load them."""
    from mmseg.datasets.transforms import LoadAnnotations
    load = LoadAnnotations()
    counts = np.zeros(num_classes, np.int64)
    for info in infos(pool):
        seg = load(dict(info))['gt_seg_map']
        counts += np.bincount(seg[seg != 255].ravel(),
                              minlength=num_classes)[:num_classes]
    return counts


def build_train(root, argv=()):
    """The semi config's training set as tools/train.py builds it with the
    dataset options ``argv``."""
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS
    init_default_scope('mmseg')
    parser = argparse.ArgumentParser()
    add_dataset_args(parser)
    args = parser.parse_args(['--data-root', root, *argv])
    cfg = load_tool_config(
        SEMI_CONFIG, {'train_dataloader.dataset.pixel_split': SPLIT},
        data_root=args.data_root, classes=args.classes,
        mask_values=args.mask_values, unlisted_classes=args.unlisted_classes)
    return DATASETS.build(cfg.train_dataloader.dataset), cfg


@pytest.mark.parametrize('names, voc_indexed', [
    (('widget', 'gadget'), False),  # the case (image pool refuses)
    (('gadget', 'widget', 'gizmo', 'sprocket'), False),  # value 4 = 'boat':
    # the pixel pool refuses first
    (('person', 'dog'), False),  # VOC names, masks numbering their own list
    (('cat', 'dog'), True),  # VOC-indexed masks: the config's classes + dog
])
def test_the_suggested_classes_read_every_pixel_right(tmp_path, names,
                                                      voc_indexed):
    """The toy config (7 classes) on other data without --classes: the
    error's own --classes line, pasted, makes every pixel its class."""
    root = str(tmp_path / 'VOC2012')
    ids = make_data(root, names, voc_indexed=voc_indexed)
    every = sorted(i for v in ids.values() for i in v)
    write_label_cache(osp.join(root, 'ImageLabels.json'), collect_image_labels(
        osp.join(root, 'Annotations'), every))
    with pytest.raises(UnlistedClassError) as e:
        build_train(root)
    msg = str(e.value)
    hinted = re.search(r'tools/train\.py CONFIG (--classes [^;]*?);', msg)
    assert hinted, msg
    argv = shlex.split(hinted.group(1))
    train, cfg = build_train(root, argv)
    classes = list(cfg.train_dataloader.dataset.datasets[0].metainfo.classes)
    assert set(names) <= set(classes), msg
    pixel, images = train.datasets
    got = loaded_pixel_counts(pixel, len(classes))
    want = xml_pixel_counts(root, ids['train'], classes)
    assert got.tolist() == want.tolist(), (msg, classes)
    for d in infos(images):  # image labels: the XML's names
        tree = ET.parse(osp.join(root, 'Annotations', f'{d["img_id"]}.xml'))
        assert d['img_labels'] == sorted(
            {0} | {classes.index(o.findtext('name'))
                   for o in tree.iter('object')})
    if voc_indexed:  # the config's classes kept, read by VOC index
        assert classes[:7] == list(TOY7) and '--mask-values listed' not in \
            hinted.group(1)
    else:
        assert '--mask-values listed' in hinted.group(1)


def test_without_masks_the_hint_says_what_it_does_not_know(tmp_path):
    """No mask to read the order from: the line lists the names and says
    that the order of mask values is unknown."""
    root = str(tmp_path / 'VOC2012')
    make_data(root, ('widget', 'gadget'))
    shutil.rmtree(osp.join(root, 'SegmentationClass'))
    with pytest.raises(UnlistedClassError) as e:
        image_pool(root, TOY7, labels_file=None, exclude_files=[])
    msg = str(e.value)
    assert 'no mask' in msg and 'order of the mask values' in msg, msg
