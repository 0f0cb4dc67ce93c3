"""The paths a user walks first with their own data, checkpoints and
folders: each ends in correct behaviour or one clear error naming the file,
key or value, and each hint that an error gives is run."""
import argparse
import os
import os.path as osp
import re
import shlex
import shutil
import subprocess
import xml.etree.ElementTree as ET
import zipfile

import numpy as np
import pytest
import torch
from mmengine.config import Config
from PIL import Image

import mmseg_lrp.plugin  # noqa: F401
from conftest import (SEMI_CONFIG, tool_cmd, tool_env,
                      write_segmentation_lists, write_voc_sample)
from mmseg_lrp.datasets import VOCImageLabelDataset, VOCPixelLabelDataset
from mmseg_lrp.datasets.class_names import UnlistedClassError, voc_palette
from mmseg_lrp.utils import (ConfigError, check_data_paths,
                             check_num_classes, set_dataset_options)
from mmseg_lrp.utils.checkpoint import CheckpointError

TOY7 = ('background', 'aeroplane', 'bicycle', 'bird', 'car', 'cat', 'person')
OWN = ('background', 'widget', 'gadget')


def run(cmd):
    res = subprocess.run(cmd, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, env=tool_env())
    return res.returncode, res.stdout


def last_line(out):
    return out.strip().splitlines()[-1]


def make_own_voc(root, names=('widget', 'gadget'), n_train=8, n_val=4,
                 n_image=8, xml_names=None, size=48):
    """A VOC-layout folder of a dataset with classes of its own: masks number
    ``('background', *names)`` (value = position), XMLs name the objects.

    Each image shows one or two filled squares, class k in colour k.
    Returns ``{split: ids}``.
    """
    rng = np.random.default_rng(0)
    for d in ('JPEGImages', 'SegmentationClass', 'Annotations',
              'ImageSets/Segmentation', 'ImageSets/SemiSeg'):
        os.makedirs(osp.join(root, d), exist_ok=True)
    colours = np.array([[40, 40, 40], [230, 60, 60], [60, 60, 230],
                        [60, 200, 60]], np.uint8)
    ids = {'train': [], 'val': [], 'image': []}
    splits = ['train'] * n_train + ['val'] * n_val + ['image'] * n_image
    for n, split in enumerate(splits):
        i = f'2099_{n:04d}'
        img = np.full((size, size, 3), colours[0], np.uint8)
        mask = np.zeros((size, size), np.uint8)
        objects = []
        for k in sorted(set(rng.integers(1, len(names) + 1, 2).tolist())):
            y, x = rng.integers(0, size - 16, 2)
            img[y:y + 16, x:x + 16] = colours[k]
            mask[y:y + 16, x:x + 16] = k
            name = (xml_names or names)[k - 1]
            objects.append(dict(name=name, truncated=0,
                                bbox=(x, y, x + 16, y + 16)))
        img = np.clip(img + rng.normal(0, 8, img.shape), 0, 255)
        write_voc_sample(root, i, img.astype(np.uint8),
                         None if split == 'image' else mask, objects,
                         quality=95)
        ids[split].append(i)
    write_segmentation_lists(root, ids)
    return ids


def image_pool(root, classes, **kwargs):
    from mmengine.registry import init_default_scope
    init_default_scope('mmseg')
    return VOCImageLabelDataset(
        data_root=root, metainfo=dict(classes=classes),
        data_prefix=dict(img_path='JPEGImages'), **kwargs)


def pixel_pool(root, classes, **kwargs):
    from mmengine.registry import init_default_scope
    init_default_scope('mmseg')
    return VOCPixelLabelDataset(
        data_root=root, metainfo=dict(classes=classes),
        data_prefix=dict(img_path='JPEGImages',
                         seg_map_path='SegmentationClass'),
        ann_file='ImageSets/Segmentation/train.txt', **kwargs)


@pytest.fixture
def logged(monkeypatch):
    """Messages of the class-name checks' print_log."""
    import mmseg_lrp.datasets.class_names as cn
    msgs = []
    monkeypatch.setattr(cn, 'print_log',
                        lambda msg, **kw: msgs.append(msg))
    return msgs


# --- classes from the config -------------------------------------------


def test_own_classes_load_with_masks_numbering_them(tmp_path):
    """A dataset of classes outside VOC's 20: labels equal the files."""
    root = str(tmp_path / 'own')
    ids = make_own_voc(root)
    pool = pixel_pool(root, OWN, mask_classes=OWN,
                      pipeline=[dict(type='LoadAnnotations')])
    assert pool.label_map is None and len(pool.metainfo['palette']) == 3
    for n, i in enumerate(ids['train']):
        mask = np.array(Image.open(
            osp.join(root, 'SegmentationClass', f'{i}.png')))
        np.testing.assert_array_equal(pool[n]['gt_seg_map'], mask)
    images = image_pool(root, OWN, mask_classes=OWN,
                        exclude_files=['ImageSets/Segmentation/val.txt'])
    # (data_list is emptied once mmengine serializes it: read every sample)
    infos = [images.get_data_info(n) for n in range(len(images))]
    assert len(infos) == len(ids['train']) + len(ids['image'])
    for info in infos:
        xml = osp.join(root, 'Annotations', f'{info["img_id"]}.xml')
        names = {o.findtext('name') for o in ET.parse(xml).iter('object')}
        assert info['img_labels'] == sorted(
            {0} | {OWN.index(n) for n in names})


def test_case_differences_are_matched_with_a_hint(tmp_path, logged):
    root = str(tmp_path / 'own')
    make_own_voc(root, xml_names=('Widget', ' gadget'))
    pool = image_pool(root, OWN, mask_classes=OWN)
    assert len(pool) > 0
    for d in map(pool.get_data_info, range(len(pool))):
        # oracle: the names as written in the XML
        xml = open(osp.join(root, 'Annotations', f'{d["img_id"]}.xml')).read()
        expect = {0} | {k for k, n in ((1, '>Widget<'), (2, '> gadget<'))
                        if n in xml}
        assert set(d['img_labels']) == expect and len(expect) > 1, xml
    assert len(logged) == 1
    assert "'Widget' -> 'widget'" in logged[0]
    assert 'Annotations' in logged[0]  # names the file


def test_unlisted_xml_class_is_refused_with_counts(tmp_path, logged):
    """Pointing the toy config's 7 classes at other data: no silent drop."""
    root = str(tmp_path / 'own')
    ids = make_own_voc(root, names=('person', 'dog'))
    dog_images = [i for v in ids.values() for i in v if 'dog' in open(
        osp.join(root, 'Annotations', f'{i}.xml')).read()]
    with pytest.raises(UnlistedClassError) as e:
        image_pool(root, TOY7, exclude_files=[])
    msg = str(e.value)
    assert f"'dog' in {len(dog_images)} image(s)" in msg
    assert re.search(r'Annotations/2099_\d{4}\.xml', msg)
    # the masks number the own list (1 person, 2 dog): the hint says so
    assert '--classes background person dog --mask-values listed' in msg
    pool = image_pool(root, TOY7, exclude_files=[], unlisted_classes='warn')
    assert len(logged) == 1 and "'dog'" in logged[0]
    person = TOY7.index('person')
    assert len(pool) == sum(map(len, ids.values()))
    for d in map(pool.get_data_info, range(len(pool))):
        # dog dropped, person kept
        xml = open(osp.join(root, 'Annotations', f'{d["img_id"]}.xml')).read()
        assert d['img_labels'] == sorted(
            {0} | ({person} if '>person<' in xml else set()))


def test_a_near_miss_name_is_pointed_out(tmp_path):
    root = str(tmp_path / 'own')
    make_own_voc(root, names=('persn', 'cat'))
    with pytest.raises(UnlistedClassError,
                       match=r"'persn' in .*\(close to the listed 'person'\)"):
        image_pool(root, TOY7, exclude_files=[])


def test_unlisted_mask_class_is_refused(tmp_path):
    """VOC-numbered masks holding a class the config leaves out."""
    root = str(tmp_path / 'own')
    make_own_voc(root, names=('aeroplane', 'bicycle'))  # values 1, 2 = VOC's
    with pytest.raises(UnlistedClassError, match=r"'bicycle' in \d+ "
                       r'image\(s\), e\.g\. .*SegmentationClass.*read as '
                       r'VOC 2012 class indices.*--mask-values listed'):
        pixel_pool(root, ('background', 'aeroplane'))
    pool = pixel_pool(root, ('background', 'aeroplane'),
                      unlisted_classes='ignore')
    assert pool.label_map[2] == 255 and pool.label_map[1] == 1


def test_mask_value_without_a_class_is_an_error(tmp_path):
    root = str(tmp_path / 'own')
    ids = make_own_voc(root)
    path = osp.join(root, 'SegmentationClass', f'{ids["train"][2]}.png')
    mask = np.array(Image.open(path))
    mask[0, 0] = 7
    png = Image.fromarray(mask, mode='P')
    png.putpalette(voc_palette().flatten().tolist())
    png.save(path)
    with pytest.raises(ValueError, match=re.escape(path)
                       + r'.*holds value 7, but mask_classes has 3'):
        pixel_pool(root, OWN, mask_classes=OWN)
    Image.fromarray(np.stack([mask] * 3, -1)).save(path)  # an RGB mask
    with pytest.raises(ValueError, match=re.escape(path) + '.*RGB image'):
        pixel_pool(root, OWN, mask_classes=OWN)


def test_mask_check_follows_reduce_zero_label(tmp_path):
    """Masks whose 0 means 'ignore' (ADE20K style): value v is class v-1,
    as mmseg's LoadAnnotations reads it."""
    root = str(tmp_path / 'own')
    make_own_voc(root)  # values 0, 1, 2
    things = ('widget', 'gadget')
    pool = pixel_pool(root, things, mask_classes=things,
                      reduce_zero_label=True)
    assert len(pool) == 8
    with pytest.raises(UnlistedClassError, match="'gadget'"):
        pixel_pool(root, ('widget', ), mask_classes=things,
                   reduce_zero_label=True)


def test_classes_missing_from_mask_classes_are_named(tmp_path):
    root = str(tmp_path / 'own')
    make_own_voc(root)
    with pytest.raises(ValueError, match=r"\['widget', 'gadget'\] are not "
                       'in mask_classes.*--mask-values listed'):
        pixel_pool(root, OWN)  # masks numbered by VOC by default
    # the hint: --mask-values listed sets mask_classes to the classes
    cfg = Config.fromfile(SEMI_CONFIG)
    set_dataset_options(cfg, root, OWN, mask_values='listed')
    ds = cfg.val_dataloader.dataset
    pixel_pool(root, OWN, mask_classes=ds.mask_classes)


# --- one place for root and classes --------------------------------------


def test_dataset_options_set_every_dataset_and_head():
    cfg = Config.fromfile(SEMI_CONFIG)
    with pytest.raises(ConfigError, match='model.decode_head.num_classes=21'
                       r'.*train_dataloader.dataset.datasets.0 has 7'):
        bad = Config.fromfile(SEMI_CONFIG)
        bad.model.decode_head.num_classes = 21
        check_num_classes(bad)
    keys = set_dataset_options(cfg, '/data/own', OWN)
    leaves = [cfg.train_dataloader.dataset.datasets[0],
              cfg.train_dataloader.dataset.datasets[1],
              cfg.val_dataloader.dataset, cfg.test_dataloader.dataset]
    for ds in leaves:
        assert ds.data_root == '/data/own'
        assert tuple(ds.metainfo.classes) == OWN
        assert ds.mask_classes == list(OWN)  # not VOC names: listed
    assert cfg.model.decode_head.num_classes == 3
    assert 'model.decode_head.num_classes' in keys
    check_num_classes(cfg)
    # VOC names: masks keep VOC numbering unless told otherwise
    set_dataset_options(cfg, classes=('background', 'dog'))
    assert cfg.val_dataloader.dataset.mask_classes is None
    set_dataset_options(cfg, classes=('background', 'dog'),
                        mask_values='listed')
    assert cfg.val_dataloader.dataset.mask_classes == ['background', 'dog']
    with pytest.raises(ConfigError, match="'widget'"):
        set_dataset_options(cfg, classes=OWN, mask_values='voc')


def test_multitask_heads_follow_the_classes():
    cfg = Config.fromfile(osp.join(
        osp.dirname(SEMI_CONFIG), '..', 'toy_experiment',
        'unet-multitask_r18-cifar-c16_1xb8-1600iter_toyvoc-semi-64x64.py'))
    set_dataset_options(cfg, classes=OWN)
    assert cfg.model.decode_head.num_classes == 3
    assert cfg.model.auxiliary_head.num_classes == 3
    check_num_classes(cfg)


def test_misspelt_sampler_type_gets_a_suggestion(toy_semi):
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner

    from mmseg_lrp.utils import explain_build_errors
    init_default_scope('mmseg')
    cfg = Config.fromfile(SEMI_CONFIG)
    set_dataset_options(cfg, toy_semi)
    loader = cfg.train_dataloader
    loader.num_workers, loader.persistent_workers = 0, False
    loader.batch_sampler.type = 'SemiSupervisedBatchSamplr'
    loader.dataset.pixel_split = 'ImageSets/SemiSeg/paper_6_seed0.txt'
    with pytest.raises(ConfigError) as e, explain_build_errors(cfg):
        Runner.build_dataloader(loader.to_dict())
    msg = str(e.value)
    assert 'train_dataloader.batch_sampler.type' in msg
    assert "Did you mean 'SemiSupervisedBatchSampler'" in msg


# --- checkpoints -----------------------------------------------------------


@pytest.mark.parametrize('content',
                         ['random', 'truncated', 'empty', 'pickle', 'zip'])
def test_not_a_checkpoint_is_named(tmp_path, content):
    from mmseg_lrp.utils import load_from_local
    path = tmp_path / 'model.pth'
    if content == 'random':
        path.write_bytes(np.random.default_rng(0).bytes(4096))
    elif content == 'truncated':
        torch.save({'state_dict': {'w': torch.ones(1000)}}, path)
        path.write_bytes(path.read_bytes()[:2000])
    elif content == 'pickle':  # pickle's first byte, then garbage
        path.write_bytes(b'\x80' + np.random.default_rng(0).bytes(4096))
    elif content == 'zip':  # a zip archive, not torch.save's
        with zipfile.ZipFile(path, 'w') as z:
            z.writestr('notes.txt', 'hello')
    else:
        path.write_bytes(b'')
    with pytest.raises(CheckpointError) as e:
        load_from_local(str(path))
    msg = str(e.value)
    assert str(path) in msg and 'not a PyTorch checkpoint or is corrupt' in msg
    assert 'weights_only' not in msg
    assert 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD' not in msg  # no unsafe advice


def test_classes_in_another_order_are_refused():
    from mmseg_lrp.utils.checkpoint import check_checkpoint
    model = torch.nn.Conv2d(4, 3, 1)
    ckpt = dict(state_dict=model.state_dict(),
                meta=dict(dataset_meta=dict(classes=list(OWN))))
    with pytest.raises(CheckpointError, match='another order'):
        check_checkpoint(model, ckpt, 'm.pth', OWN[::-1])
    check_checkpoint(model, ckpt, 'm.pth', OWN)  # the same order: fine


def test_foreign_objects_are_refused_without_unsafe_advice(tmp_path):
    from mmseg_lrp.utils import load_from_local
    path = tmp_path / 'other.pth'
    torch.save({'opt': argparse.Namespace(lr=0.1)}, path)
    with pytest.raises(CheckpointError) as e:
        load_from_local(str(path))
    msg = str(e.value)
    assert str(path) in msg and 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD' in msg
    assert 'only for a file you trust' in msg


# --- tools ---------------------------------------------------------------


def test_make_voc_splits_leaves_out_ids_without_masks(tmp_path):
    root = str(tmp_path / 'own')
    ids = make_own_voc(root)
    gone = ids['train'][:2]
    for i in gone:
        os.remove(osp.join(root, 'SegmentationClass', f'{i}.png'))
    code, out = run(tool_cmd('dataset_converters/make_voc_splits.py', root,
                             '--num', '6', '--protocol', 'classic'))
    assert code == 0, out[-3000:]
    assert f'2 of {len(ids["train"])} ids' in out and gone[0] in out
    with open(osp.join(root, 'ImageSets', 'SemiSeg',
                       'classic_6_seed0.txt')) as f:
        chosen = f.read().split()
    assert len(chosen) == 6 and not set(chosen) & set(gone)


def _short_run(split):
    """--cfg-options for 2 training iterations with a validation."""
    return ['--cfg-options', 'train_cfg.max_iters=2',
            'train_cfg.val_interval=2',
            'default_hooks.checkpoint.interval=2',
            'default_hooks.logger.interval=1',
            'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
            'train_dataloader.persistent_workers=False',
            'train_dataloader.batch_sampler.num_pixel_labelled=1',
            f'train_dataloader.dataset.pixel_split={split}',
            'val_dataloader.num_workers=0',
            'val_dataloader.persistent_workers=False',
            'test_dataloader.num_workers=0',
            'test_dataloader.persistent_workers=False',
            'custom_hooks.0.indices=[0]']


@pytest.mark.slow
def test_own_data_end_to_end(tmp_path):
    """The own-data recipe of docs/own_data.md: label cache and split by
    the tools, then train.py / test.py with --data-root and --classes only;
    a missing root's hint and a checkpoint of other classes are caught up
    front."""
    root = str(tmp_path / 'own' / 'VOC2012')
    make_own_voc(root)
    code, out = run(tool_cmd('dataset_converters/voc_image_labels.py', root))
    assert code == 0, out[-3000:]
    assert re.search(r'classes \(images\): gadget \(\d+\), widget \(\d+\)',
                     out), out[-2000:]
    code, out = run(tool_cmd('dataset_converters/make_voc_splits.py', root,
                             '--num', '4'))
    assert code == 0, out[-3000:]
    work = str(tmp_path / 'work')
    short = _short_run('ImageSets/SemiSeg/paper_4_seed0.txt')
    # the hint of a missing root (tests/test_config_check.py shows that
    # train.py prints it) ...
    with pytest.raises(ConfigError, match='--data-root /path/to/VOC2012'):
        cfg = Config.fromfile(SEMI_CONFIG)
        set_dataset_options(cfg, str(tmp_path / 'nope'))
        check_data_paths(cfg, ['train_dataloader'])
    # ... which works with the real root
    code, out = run(tool_cmd('train.py', SEMI_CONFIG, '--work-dir', work,
                             '--data-root', root, '--classes', *OWN, *short))
    assert code == 0, out[-4000:]
    assert re.search(r'Iter\(val\) \[4/4\].*mIoU', out)
    ckpt = osp.join(work, 'iter_2.pth')
    meta = torch.load(ckpt, weights_only=False)['meta']['dataset_meta']
    assert tuple(meta['classes']) == OWN
    # own data without a test split: the toy config's test loader names
    # test.txt and how to evaluate on val instead (the pool just has no test
    # ids to leave out)
    cfg = Config.fromfile(SEMI_CONFIG)
    set_dataset_options(cfg, root)
    with pytest.raises(ConfigError, match=r'test\.txt.*no test split.*'
                       r'test_dataloader\.dataset\.ann_file=ImageSets/'
                       r'Segmentation/val\.txt'):
        check_data_paths(cfg, ['test_dataloader'])
    on_val = ['test_dataloader.dataset.ann_file='
              'ImageSets/Segmentation/val.txt']
    # test.py --out with the LRP configs' evaluator list
    code, out = run(tool_cmd('test.py', SEMI_CONFIG, ckpt, '--work-dir', work,
                             '--data-root', root, '--classes', *OWN,
                             '--out', tmp_path / 'preds',
                             '--cfg-options', 'test_dataloader.num_workers=0',
                             'test_dataloader.persistent_workers=False',
                             *on_val))
    assert code == 0, out[-4000:]
    written = sorted(os.listdir(tmp_path / 'preds'))
    assert len(written) == 4 and all(f.endswith('.png') for f in written)
    check_infer_folder(ckpt, root, tmp_path)
    # the 3-class checkpoint on the 7-class config: refused before testing
    code, out = run(tool_cmd('test.py', SEMI_CONFIG, ckpt, '--work-dir', work,
                             '--data-root', root, '--cfg-options', *on_val))
    assert code != 0 and 'Iter(test)' not in out
    assert 'CheckpointError' in last_line(out) and ckpt in last_line(out)
    assert 'the checkpoint is for 3 classes, the config for 7' in out


def check_infer_folder(ckpt, root, tmp_path):
    """infer.py on a folder with a broken file, a 1x1 image and a large
    photo: the bad ones are named, the others written; figures and logits
    stay small on request; printed classes = figure panels."""
    folder = tmp_path / 'photos'
    folder.mkdir()
    img = sorted(os.listdir(osp.join(root, 'JPEGImages')))[0]
    shutil.copy(osp.join(root, 'JPEGImages', img), folder / 'a_good.jpg')
    (folder / 'b_broken.jpg').write_bytes(b'\xff\xd8\xff\xe0 not a jpeg')
    Image.new('RGB', (1, 1)).save(folder / 'c_tiny.png')
    big = Image.open(folder / 'a_good.jpg').resize((1100, 900))
    big.save(folder / 'd_large.jpg')
    out_dir = tmp_path / 'infer'
    code, out = run(tool_cmd('infer.py', SEMI_CONFIG, ckpt, folder, '--out',
                             out_dir, '--device', 'cpu', '--save-logits',
                             '--logits-size', 'model',
                             '--logits-dtype', 'float16'))
    assert code != 0
    # the 7-class config, the 3-class checkpoint: built for the checkpoint
    assert "built for the checkpoint's classes" in out
    assert '2 image(s) failed' in out
    assert 'b_broken.jpg: corrupt image' in out
    assert 'c_tiny.png: image is 1x1 px' in out
    assert 'wrote results of 2 of 4 images' in out
    for name in ('a_good', 'd_large'):
        line = next(ln for ln in out.splitlines()
                    if f'{name}.jpg: predicted' in ln)
        shown = re.findall(r'(\w+) [\d.]+%', line.split('; ')[0])
        fig = np.array(Image.open(out_dir / f'{name}_heatmaps.png'))
        # input, prediction and one heatmap per printed class, 2 px apart
        img = Image.open(folder / f'{name}.jpg')
        panel_w = min(img.width, round(img.width * 512 / max(img.size)))
        n = 2 + len(shown)
        assert fig.shape[1] == n * panel_w + (n - 1) * 2, (line, fig.shape)
        logits = np.load(out_dir / f'{name}_heatmaps.npy')
        assert logits.dtype == np.float16 and logits.shape[0] == 3
        assert max(logits.shape[1:]) == 64  # the model's input size
    fig = np.array(Image.open(out_dir / 'd_large_heatmaps.png'))
    assert fig.shape[0] <= 512 + 14  # one panel and its caption
    assert not (out_dir / 'b_broken_pred.png').exists()


@pytest.mark.slow
def test_unlisted_class_hint_runs(toy_semi, tmp_path):
    """The toy config on data that also shows dogs: refused, and the
    --classes of the error message trains."""
    root = str(tmp_path / 'VOC2012')
    shutil.copytree(toy_semi, root)
    with open(osp.join(root, 'ImageSets/SemiSeg/paper_6_seed0.txt')) as f:
        first = f.read().split()[0]
    mask_path = osp.join(root, 'SegmentationClass', f'{first}.png')
    mask = Image.open(mask_path)
    arr = np.array(mask)
    arr[:6, :6] = 12  # VOC's dog
    out_mask = Image.fromarray(arr, mode='P')
    out_mask.putpalette(mask.getpalette())
    out_mask.save(mask_path)
    # the datasets of the toy config refuse the data (as train.py builds
    # them), and say which --classes would take it ...
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS
    init_default_scope('mmseg')
    cfg = Config.fromfile(SEMI_CONFIG)
    set_dataset_options(cfg, root)
    cfg.train_dataloader.dataset.pixel_split = (
        'ImageSets/SemiSeg/paper_6_seed0.txt')
    with pytest.raises(UnlistedClassError) as e:
        DATASETS.build(cfg.train_dataloader.dataset)
    msg = str(e.value)
    assert "'dog' in 1 image(s)" in msg and mask_path in msg
    hinted = re.search(r'tools/train\.py CONFIG (--classes [^;]*?);', msg)
    assert hinted, msg
    # the opt-out it names works too (dog pixels ignored) ...
    assert '--unlisted-classes warn' in msg
    opt_out = Config.fromfile(SEMI_CONFIG)
    set_dataset_options(opt_out, root, unlisted_classes='warn')
    opt_out.train_dataloader.dataset.pixel_split = (
        'ImageSets/SemiSeg/paper_6_seed0.txt')
    pool = DATASETS.build(opt_out.train_dataloader.dataset).datasets[0]
    assert pool.label_map[12] == 255
    # ... which train.py then trains with
    work = str(tmp_path / 'work')
    short = _short_run('ImageSets/SemiSeg/paper_6_seed0.txt')
    code, out = run(tool_cmd('train.py', SEMI_CONFIG, '--work-dir', work,
                             '--data-root', root,
                             *shlex.split(hinted.group(1)), *short))
    assert code == 0, out[-4000:]
    meta = torch.load(osp.join(work, 'iter_2.pth'),
                      weights_only=False)['meta']['dataset_meta']
    assert meta['classes'][-1] == 'dog' and len(meta['classes']) == 8
