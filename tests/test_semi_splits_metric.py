"""Pixel-label splits, the data tools and the multi-label metric."""
import json
import os.path as osp
import shutil
import subprocess

import numpy as np
import pytest
import torch

import mmseg_lrp.plugin  # noqa: F401
from conftest import tool_cmd, tool_env
from mmseg_lrp.datasets.splits import class_counts, select_pixel_ids


def skewed_labels(n=400, seed=0):
    """Images with a long-tailed class distribution, like VOC's (person is
    common, a few classes are rare)."""
    rng = np.random.default_rng(seed)
    classes = [f'c{k:02d}' for k in range(20)]
    p = 1.0 / np.arange(1, 21)**1.2
    p /= p.sum()
    labels = {}
    for i in range(n):
        k = rng.integers(1, 4)
        labels[f'im{i:04d}'] = sorted(
            set(rng.choice(classes, size=k, p=p).tolist()))
    return labels


def spread(labels, ids):
    counts = class_counts(labels, ids)
    return len(counts), max(counts.values()) - min(counts.values())


@pytest.mark.parametrize('num', [20, 50])
def test_paper_split_covers_every_class_evenly(num):
    labels = skewed_labels()
    chosen = select_pixel_ids(labels, num, 'paper', seed=0)
    assert len(chosen) == num == len(set(chosen))
    assert set(chosen) <= set(labels)
    covered, gap = spread(labels, chosen)
    assert covered == 20
    classic = [spread(labels, select_pixel_ids(labels, num, 'classic', s))
               for s in range(5)]
    # uniform sampling misses rare classes or is far more uneven
    assert all(c < 20 or g > gap for c, g in classic)
    assert gap <= 3


def test_blend_moves_counts_towards_the_natural_distribution():
    labels = skewed_labels()
    even = class_counts(labels, select_pixel_ids(labels, 100, blend=0.0))
    mixed = class_counts(labels, select_pixel_ids(labels, 100, blend=1.0))
    assert mixed['c00'] > even['c00']  # the common class gains
    assert len(mixed) == 20  # still every class


def test_splits_are_reproducible_and_seeded():
    labels = skewed_labels()
    for protocol in ('paper', 'classic'):
        a = select_pixel_ids(labels, 30, protocol, seed=1)
        assert a == select_pixel_ids(labels, 30, protocol, seed=1)
        assert a != select_pixel_ids(labels, 30, protocol, seed=2)
        assert a == sorted(a)


def test_split_errors_and_the_full_list():
    labels = skewed_labels(n=10)
    assert select_pixel_ids(labels, 10) == sorted(labels)
    with pytest.raises(ValueError, match=r'11 ids is larger than train\.txt '
                       r'\(10 ids\)'):
        select_pixel_ids(labels, 11, source='train.txt')
    with pytest.raises(ValueError, match='protocol'):
        select_pixel_ids(labels, 5, 'balanced')


@pytest.mark.slow
def test_data_tools_on_the_toy_voc(toy_voc, tmp_path):
    root = str(tmp_path / 'VOC2012')
    shutil.copytree(toy_voc[0], root)
    ids = toy_voc[1]
    res = subprocess.run(
        tool_cmd('dataset_converters/voc_image_labels.py', root,
                 '--check-images'),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=tool_env())
    assert res.returncode == 0, res.stdout[-3000:]
    with open(osp.join(root, 'ImageLabels.json')) as f:
        cache = json.load(f)['labels']
    assert len(cache) == 24 + 4  # every JPEG, the 4 test images included
    from mmseg_lrp.datasets import read_voc_xml_names
    some = ids['image_only'][0]
    assert cache[some] == list(dict.fromkeys(read_voc_xml_names(
        osp.join(root, 'Annotations', f'{some}.xml'))))
    for args in (['--num', 4, 12], ['--num', 5, '--protocol', 'classic']):
        res = subprocess.run(
            tool_cmd('dataset_converters/make_voc_splits.py', root,
                     '--labels', 'ImageLabels.json', *args),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env=tool_env())
        assert res.returncode == 0, res.stdout[-3000:]
    for name, n in (('paper_4_seed0', 4), ('paper_12_seed0', 12),
                    ('classic_5_seed0', 5)):
        with open(osp.join(root, 'ImageSets', 'SemiSeg', name + '.txt')) as f:
            got = f.read().split()
        assert len(got) == n and set(got) <= set(ids['seg_train'])
    res = subprocess.run(
        tool_cmd('dataset_converters/make_voc_splits.py', root, '--num', 13),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=tool_env())
    assert res.returncode != 0
    assert 'a split of 13 ids is larger than' in res.stdout
    assert 'ImageSets/Segmentation/train.txt (12 ids)' in res.stdout
    # a corrupt image is reported by name
    with open(osp.join(root, 'JPEGImages', f'{some}.jpg'), 'r+b') as f:
        f.truncate(300)
    res = subprocess.run(
        tool_cmd('dataset_converters/voc_image_labels.py', root,
                 '--check-images'),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=tool_env())
    assert res.returncode != 0 and f'{some}.jpg (id {some})' in res.stdout


# -- the multi-label metric --------------------------------------------------
def metric_samples(logits, labels):
    return [dict(pred_img_logits=dict(data=torch.tensor(z)),
                 gt_img_labels=dict(data=torch.tensor(y, dtype=torch.float)))
            for z, y in zip(logits, labels)]


def test_metric_against_a_hand_computed_case():
    from mmseg_lrp.evaluation import MultiLabelClsMetric
    # classes: background, a, b, c (c has no positive image: left out)
    logits = [[5, 2, -2, 1], [5, 1, 0.5, -1], [5, -1, 1, -3]]
    labels = [[1, 1, 0, 0], [1, 0, 1, 0], [1, 1, 1, 0]]
    m = MultiLabelClsMetric()
    m.process({}, metric_samples(logits, labels))
    res = m.evaluate(3)
    # a: scores 2 (+), 1 (-), -1 (+) -> AP = (1/1 + 2/3) / 2 = 83.33
    # b: scores 1 (+), 0.5 (+), -2 (-) -> AP = 100
    assert res['cls/mAP'] == pytest.approx((250 / 3 + 100) / 2, abs=1e-3)
    # threshold 0.5 on sigmoid = logit > 0: a predicted for images 0, 1
    # (P 1/2, R 1/2), b for images 1, 2 (P 1, R 1)
    assert res['cls/precision'] == pytest.approx(75.0)
    assert res['cls/recall'] == pytest.approx(75.0)
    assert res['cls/F1'] == pytest.approx(75.0)
    assert res['cls/num_classes'] == 2


def test_metric_skips_unlabelled_and_refuses_models_without_logits():
    from mmseg_lrp.evaluation import MultiLabelClsMetric
    m = MultiLabelClsMetric()
    m.process({}, [dict(pred_img_logits=dict(data=torch.zeros(3)))])
    with pytest.raises(ValueError, match='no sample with image labels'):
        m.evaluate(1)
    with pytest.raises(KeyError, match='needs pred_img_logits'):
        m.process({}, [dict(gt_img_labels=dict(data=torch.zeros(3)))])


def test_predict_returns_the_classifier_logits():
    """pred_img_logits equal GAP + linear applied to the backbone output,
    computed here directly; the segmentation is unchanged by adding them."""
    import torch.nn.functional as F
    from test_lrp_model import build
    model = build(double=False).eval()
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        out = model.predict(x)
        feat = model.backbone(x)[-1]
        ref = model.decode_head.conv_seg(
            F.adaptive_avg_pool2d(feat, 1)).flatten(1)
        seg = model(x, mode='tensor')
    for i, s in enumerate(out):
        torch.testing.assert_close(s.pred_img_logits.data, ref[i])
        torch.testing.assert_close(s.seg_logits.data, seg[i])
    from mmengine.config import ConfigDict
    model.test_cfg = ConfigDict(
        mode='slide', crop_size=(64, 64), stride=(32, 32))
    with torch.no_grad():
        out = model.predict(torch.rand(1, 3, 64, 96))
    assert out[0].pred_img_logits.data.shape == (5, )
