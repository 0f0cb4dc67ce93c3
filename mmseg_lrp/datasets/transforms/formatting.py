"""Packing with image-level labels."""
from typing import Optional, Sequence

import numpy as np
import torch
from mmengine.structures import LabelData
from mmseg.datasets.transforms import PackSegInputs
from mmseg.registry import TRANSFORMS

from mmseg_lrp.utils.labels import mask_multi_hot

SEMI_META_KEYS = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape',
                  'pad_shape', 'scale_factor', 'flip', 'flip_direction',
                  'reduce_zero_label', 'img_id', 'has_pixel_label')


@TRANSFORMS.register_module()
class PackSemiSegInputs(PackSegInputs):
    """mmseg's ``PackSegInputs`` plus the image-level labels.

    Adds ``data_sample.gt_img_labels = LabelData(data=y)``, ``y`` the
    multi-hot class vector ``(K, )`` (background included). A data field,
    not metainfo, so it moves to the device with the batch. For
    pixel-labelled samples ``y`` is recomputed from the mask as it is now
    (after cropping); for image-labelled ones it comes from ``img_labels``
    (the XML). A pixel-labelled sample whose mask is all ignore (a crop of
    boundary only) gets no ``gt_img_labels``: its classes are unknown, and the
    model leaves it out of the classification loss rather than give it an
    all-negative label.

    Args:
        num_classes: K. Default: the sample's ``num_classes`` (set by
            ``VOCPixelLabelDataset`` / ``VOCImageLabelDataset``).
        ignore_index: Mask value that is not a class.
        meta_keys: As :class:`PackSegInputs`, plus ``img_id`` and
            ``has_pixel_label``.
    """

    def __init__(self,
                 num_classes: Optional[int] = None,
                 ignore_index: int = 255,
                 meta_keys: Sequence[str] = SEMI_META_KEYS) -> None:
        super().__init__(meta_keys=meta_keys)
        self.num_classes = num_classes
        self.ignore_index = ignore_index

    def _labels(self, results: dict) -> Optional[np.ndarray]:
        if 'gt_seg_map' not in results and 'img_labels' not in results:
            return None  # nothing to derive labels from (inference)
        k = self.num_classes or results.get('num_classes')
        if not k:
            raise KeyError(
                f'{results.get("img_path")}: PackSemiSegInputs needs '
                'num_classes (argument, or set by the dataset)')
        if results.get('has_pixel_label', True) and 'gt_seg_map' in results:
            y = mask_multi_hot(results['gt_seg_map'], k, self.ignore_index,
                               str(results.get('seg_map_path')))
            return None if y is None else y.numpy()
        elif 'img_labels' in results:
            idx = np.asarray(results['img_labels'], np.int64)
            if len(idx) and (idx.min() < 0 or idx.max() >= k):
                raise ValueError(f'{results.get("img_path")}: image label '
                                 f'out of range 0..{k - 1}: {idx.tolist()}')
        else:
            return None
        y = np.zeros(k, np.float32)
        y[idx] = 1
        return y

    def transform(self, results: dict) -> dict:
        packed = super().transform(results)
        y = self._labels(results)
        if y is not None:
            packed['data_samples'].set_data(
                dict(gt_img_labels=LabelData(data=torch.from_numpy(y))))
        return packed

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_classes={self.num_classes}, '
                f'ignore_index={self.ignore_index}, '
                f'meta_keys={self.meta_keys})')
