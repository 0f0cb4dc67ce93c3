"""Semi-supervised packing, augmentation and the paper-protocol pipeline."""
import numpy as np
import pytest
import torch

import mmseg_lrp.plugin  # noqa: F401
from mmseg_lrp.datasets.transforms import (CenterSquareCrop,
                                           IgnoreToBackground,
                                           PackSemiSegInputs,
                                           RandomDefocusBlur,
                                           RandomGaussianNoise,
                                           RandomSquareCrop, ResetOriShape)


def sample(h=6, w=10, has_pixel_label=True, **kw):
    """Image whose pixels encode their coordinates; mask = column index."""
    yy, xx = np.mgrid[:h, :w]
    img = np.stack([yy, xx, np.zeros_like(yy)], -1).astype(np.uint8)
    seg = xx.astype(np.uint8)
    return dict(img=img, gt_seg_map=seg, seg_fields=['gt_seg_map'],
                img_shape=(h, w), ori_shape=(h, w),
                has_pixel_label=has_pixel_label, **kw)


# -- packing -----------------------------------------------------------------
def test_pixel_labels_are_recomputed_after_cropping():
    r = sample(num_classes=12, img_labels=[0, 1, 2, 3])  # XML says 0..3
    seg = np.full((4, 5), 255, np.uint8)
    seg[1, 1], seg[2, 3], seg[3, 4] = 7, 2, 7  # the crop shows 2 and 7 only
    r['gt_seg_map'] = seg
    y = PackSemiSegInputs()(r)['data_samples'].gt_img_labels.data
    assert y.dtype == torch.float32
    assert y.nonzero().flatten().tolist() == [2, 7] and y.shape == (12, )


def test_image_level_labels_come_from_img_labels():
    r = sample(has_pixel_label=False, num_classes=5, img_labels=[0, 3])
    r['gt_seg_map'][:] = 255
    out = PackSemiSegInputs()(r)['data_samples']
    assert out.gt_img_labels.data.tolist() == [1, 0, 0, 1, 0]
    assert out.has_pixel_label is False


def test_all_ignore_crop_gets_no_image_label():
    r = sample(num_classes=5)
    r['gt_seg_map'][:] = 255
    assert 'gt_img_labels' not in PackSemiSegInputs()(r)['data_samples']


@pytest.mark.parametrize('kw, match', [
    (dict(), 'needs num_classes'),
    (dict(num_classes=4), 'mask label 9 >= num_classes 4'),
])
def test_packing_errors(kw, match):
    with pytest.raises((KeyError, ValueError), match=match):
        PackSemiSegInputs()(sample(**kw))


def test_labels_move_with_the_batch_as_a_data_field():
    out = PackSemiSegInputs()(sample(num_classes=12))['data_samples']
    assert 'gt_img_labels' in out.keys()  # a data field, not metainfo
    assert 'gt_img_labels' not in out.metainfo_keys()


# -- augmentation ------------------------------------------------------------
def test_random_square_crop_keeps_image_and_mask_aligned():
    np.random.seed(0)
    offsets = set()
    for _ in range(30):
        r = RandomSquareCrop()(sample(6, 10))
        img, seg = r['img'], r['gt_seg_map']
        assert img.shape[:2] == seg.shape == (6, 6) == r['img_shape']
        assert (img[..., 1] == seg).all()  # same columns in both
        assert (img[:, 0, 0] == np.arange(6)).all()  # full height kept
        offsets.add(int(seg[0, 0]))
    assert offsets == set(range(5))  # every position occurs


def test_center_square_crop_is_centred():
    r = CenterSquareCrop()(sample(6, 11))
    assert r['gt_seg_map'][0].tolist() == [2, 3, 4, 5, 6, 7]
    r = CenterSquareCrop()(sample(9, 4))
    assert r['img'][:, 0, 0].tolist() == [2, 3, 4, 5]


def test_defocus_blur_averages_over_a_disk():
    np.testing.assert_allclose(
        RandomDefocusBlur.disk(1),
        np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]]) / 5, rtol=1e-6)
    t = RandomDefocusBlur(prob=1.0, radius=(2, 2), alias_blur=(0.0, 0.0))
    flat = dict(img=np.full((9, 9, 3), 77, np.uint8))
    assert (t(flat)['img'] == 77).all()  # a normalised kernel
    dot = np.zeros((9, 9, 3), np.float32)
    dot[4, 4] = 13.0
    out = t(dict(img=dot))['img']
    assert out.dtype == np.float32 and out.shape == (9, 9, 3)
    assert np.isclose(out.sum(), 3 * 13.0)  # mass conserved
    assert (out[..., 0] > 0).sum() == (RandomDefocusBlur.disk(2) > 0).sum()


def test_gaussian_noise_has_the_asked_std_and_stays_in_range():
    np.random.seed(0)
    img = np.full((64, 64, 3), 128, np.uint8)
    out = RandomGaussianNoise(prob=1.0, std=(6.0, 6.0))(dict(img=img))['img']
    assert out.dtype == np.uint8
    assert abs(out.astype(float).std() - 6.0) < 0.3
    bright = np.full((8, 8, 3), 254, np.uint8)
    out = RandomGaussianNoise(prob=1.0, std=(50, 50))(dict(img=bright))['img']
    assert out.max() <= 255 and out.dtype == np.uint8
    same = RandomGaussianNoise(prob=0.0)(dict(img=img.copy()))['img']
    assert (same == img).all()


@pytest.mark.parametrize('cls, kw', [
    (RandomDefocusBlur, dict(radius=(0, 2))),
    (RandomDefocusBlur, dict(prob=1.5)),
    (RandomGaussianNoise, dict(std=(5, 1))),
])
def test_bad_augmentation_arguments(cls, kw):
    with pytest.raises(ValueError):
        cls(**kw)


# -- paper-protocol evaluation ----------------------------------------------
def test_paper_protocol_pipeline_evaluates_the_centre_crop_at_256():
    from mmcv.transforms import Compose
    from mmengine.registry import init_default_scope
    init_default_scope('mmseg')
    r = sample(60, 100, num_classes=256)
    r['gt_seg_map'][:, 50:] = 255  # boundary pixels
    r['gt_seg_map'][:, :50] = 3
    pipe = Compose([
        dict(type='CenterSquareCrop'),
        dict(type='Resize', scale=(256, 256), keep_ratio=False),
        dict(type='IgnoreToBackground'),
        dict(type='ResetOriShape'),
        dict(type='PackSemiSegInputs'),
    ])
    out = pipe(r)['data_samples']
    seg = out.gt_sem_seg.data[0]
    assert seg.shape == (256, 256) and out.ori_shape == (256, 256)
    assert set(seg.unique().tolist()) == {0, 3}  # 255 became background
    # columns 20..49 of the original are class 3: 30 of the 60 cropped
    assert (seg[:, :128] == 3).all() and (seg[:, 128:] == 0).all()


def test_ignore_to_background_and_reset_ori_shape_alone():
    r = sample()
    r['gt_seg_map'][0, 0] = 255
    r = IgnoreToBackground()(r)
    assert r['gt_seg_map'][0, 0] == 0
    r['img'] = r['img'][:3]
    assert ResetOriShape()(r)['ori_shape'] == (3, 10)
