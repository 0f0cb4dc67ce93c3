"""Augmentation and evaluation transforms of the original protocol that
mmseg/mmcv lack (mmseg's PhotoMetricDistortion, Resize and RandomFlip do the
rest)."""
from typing import Sequence, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS


def _crop(results: dict, y0: int, x0: int, side: int) -> dict:
    """Crop the image and every segmentation field to a square."""
    sl = (slice(y0, y0 + side), slice(x0, x0 + side))
    results['img'] = results['img'][sl]
    for key in results.get('seg_fields', []):
        results[key] = results[key][sl]
    results['img_shape'] = results['img'].shape[:2]
    return results


@TRANSFORMS.register_module()
class RandomSquareCrop(BaseTransform):
    """Crop a square whose side is the image's short side, at a random
    position (the original's training crop, before resizing to 256).

    Required keys: img, (seg_fields). Modified keys: img, img_shape and the
    seg fields.
    """

    def transform(self, results: dict) -> dict:
        h, w = results['img'].shape[:2]
        side = min(h, w)
        y0 = np.random.randint(0, h - side + 1)
        x0 = np.random.randint(0, w - side + 1)
        return _crop(results, y0, x0, side)


@TRANSFORMS.register_module()
class CenterSquareCrop(BaseTransform):
    """Crop the centred square of the short side (paper-protocol
    evaluation).

    Required keys: img, (seg_fields). Modified keys: img, img_shape and the
    seg fields.
    """

    def transform(self, results: dict) -> dict:
        h, w = results['img'].shape[:2]
        side = min(h, w)
        return _crop(results, (h - side) // 2, (w - side) // 2, side)


def _uniform(rng: Tuple[float, float]) -> float:
    return float(np.random.uniform(rng[0], rng[1]))


@TRANSFORMS.register_module()
class RandomDefocusBlur(BaseTransform):
    """Defocus blur: convolution with a disk of random radius, then a slight
    Gaussian blur against aliasing (as albumentations' ``Defocus``).

    Args:
        prob: Probability of blurring.
        radius: Inclusive range of the disk radius in pixels.
        alias_blur: Range of the Gaussian sigma applied after the disk.
    """

    def __init__(self,
                 prob: float = 0.5,
                 radius: Tuple[int, int] = (1, 3),
                 alias_blur: Tuple[float, float] = (0.1, 0.5)) -> None:
        if not 0 <= prob <= 1:
            raise ValueError(f'prob must be in [0, 1], got {prob}')
        if not 1 <= radius[0] <= radius[1]:
            raise ValueError(f'radius must be 1 <= lo <= hi, got {radius}')
        self.prob = prob
        self.radius = tuple(radius)
        self.alias_blur = tuple(alias_blur)

    @staticmethod
    def disk(radius: int) -> np.ndarray:
        """A normalised disk kernel of the given radius."""
        r = np.arange(-radius, radius + 1)
        k = ((r[:, None]**2 + r[None, :]**2) <= radius**2).astype(np.float32)
        return k / k.sum()

    def transform(self, results: dict) -> dict:
        if np.random.rand() >= self.prob:
            return results
        img = results['img']
        radius = np.random.randint(self.radius[0], self.radius[1] + 1)
        out = cv2.filter2D(img, -1, self.disk(radius),
                           borderType=cv2.BORDER_REFLECT_101)
        sigma = _uniform(self.alias_blur)
        if sigma > 0:
            out = cv2.GaussianBlur(out, (0, 0), sigma)
        results['img'] = out.reshape(img.shape).astype(img.dtype)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(prob={self.prob}, '
                f'radius={self.radius}, alias_blur={self.alias_blur})')


@TRANSFORMS.register_module()
class RandomGaussianNoise(BaseTransform):
    """Additive Gaussian pixel noise with a random standard deviation,
    clipped to [0, 255].

    Args:
        prob: Probability of adding noise.
        std: Range of the standard deviation in pixel units (albumentations'
            default variance 10..50 is std 3.2..7.1).
        per_channel: Independent noise per colour channel.
    """

    def __init__(self,
                 prob: float = 0.5,
                 std: Tuple[float, float] = (3.2, 7.1),
                 per_channel: bool = True) -> None:
        if not 0 <= prob <= 1:
            raise ValueError(f'prob must be in [0, 1], got {prob}')
        if not 0 <= std[0] <= std[1]:
            raise ValueError(f'std must be 0 <= lo <= hi, got {std}')
        self.prob = prob
        self.std = tuple(std)
        self.per_channel = per_channel

    def transform(self, results: dict) -> dict:
        if np.random.rand() >= self.prob:
            return results
        img = results['img']
        shape = img.shape if self.per_channel else img.shape[:2] + (1, ) * (
            img.ndim - 2)
        noise = np.random.normal(0.0, _uniform(self.std), shape)
        out = np.clip(img.astype(np.float32) + noise, 0, 255)
        results['img'] = out.astype(img.dtype)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(prob={self.prob}, std={self.std}, '
                f'per_channel={self.per_channel})')


@TRANSFORMS.register_module()
class IgnoreToBackground(BaseTransform):
    """Count ignored pixels (VOC's 255 object boundaries) as background, as
    the paper's evaluation and the original code's training do. Not the
    standard VOC protocol. Samples without pixel labels
    (``has_pixel_label=False``, all-ignore masks) are left alone: their 255
    means unlabelled, not boundary.

    Args:
        ignore_index: The value to replace.
        background: The background class index.
        keys: Segmentation fields to change.
    """

    def __init__(self,
                 ignore_index: int = 255,
                 background: int = 0,
                 keys: Sequence[str] = ('gt_seg_map', )) -> None:
        self.ignore_index = ignore_index
        self.background = background
        self.keys = tuple(keys)

    def transform(self, results: dict) -> dict:
        if results.get('has_pixel_label', True) is False:
            return results
        for key in self.keys:
            seg = results[key].copy()
            seg[seg == self.ignore_index] = self.background
            results[key] = seg
        return results


@TRANSFORMS.register_module()
class ResetOriShape(BaseTransform):
    """Treat the image as it is now (cropped, resized) as the original:
    ``ori_shape = img_shape``, so mmseg evaluates predictions at this size
    against the equally transformed mask instead of resizing them back.
    Used by the paper-protocol evaluation (centre crop, 256x256)."""

    def transform(self, results: dict) -> dict:
        results['ori_shape'] = results['img'].shape[:2]
        return results
