"""The pixel-labelled pool of semi-supervised PASCAL VOC."""
import os.path as osp
from typing import List, Optional, Sequence

import numpy as np
from mmseg.datasets import PascalVOCDataset
from mmseg.registry import DATASETS
from PIL import Image

from .class_names import VOC_CLASSES, ConfigClassesMixin
from .voc_labels import check_not_empty, read_id_list


@DATASETS.register_module()
class VOCPixelLabelDataset(ConfigClassesMixin, PascalVOCDataset):
    """PASCAL VOC images with ``SegmentationClass`` masks, from a split file.

    mmseg's :class:`PascalVOCDataset`, plus: every id of the split file is
    checked to have its image and mask (a missing one is an error naming the
    split file and the id), and every sample carries ``has_pixel_label=True``,
    ``img_id`` and ``num_classes`` for the semi-supervised pipeline
    (``LoadSemiAnnotations``, ``PackSemiSegInputs``) and the
    ``SemiSupervisedBatchSampler``. Used for the training pool (a split file of
    ``tools/dataset_converters/make_voc_splits.py``) and for validation.

    Classes are the config's ``metainfo.classes``, any names: mask value
    ``v`` is class ``mask_classes[v]`` (VOC 2012's 21 by default, as
    ``SegmentationClass`` PNGs; a dataset's own list where its masks number
    that). Every mask is read once at start (``check_masks``): a value with
    no class is an error, and pixels of classes the config does not list are
    refused by default (``unlisted_classes``) instead of silently ignored.

    Args:
        ann_file: The split file, one id per line (relative to data_root).
        data_prefix: Must name ``img_path`` and ``seg_map_path``.
        mask_classes: The class of each mask value; default VOC 2012's 21.
        unlisted_classes: What mask pixels of classes not in
            ``metainfo.classes`` make: ``'error'`` (default, naming them and
            their images), ``'warn'`` (log; the pixels are ignored, 255) or
            ``'ignore'``.
        check_masks: Read every mask at start for the checks above.
        **kwargs: As :class:`PascalVOCDataset`.
    """

    def __init__(self,
                 *args,
                 mask_classes: Optional[Sequence[str]] = None,
                 unlisted_classes: str = 'error',
                 check_masks: bool = True,
                 **kwargs) -> None:
        self._init_classes(mask_classes, unlisted_classes)
        self.check_masks = check_masks
        super().__init__(*args, **kwargs)

    def load_data_list(self) -> List[dict]:
        if not self.data_prefix.get('seg_map_path'):
            raise KeyError(
                'VOCPixelLabelDataset needs data_prefix.seg_map_path '
                '(e.g. SegmentationClass); for images without masks use '
                'VOCImageLabelDataset')
        ids = read_id_list(self.ann_file)
        if not ids:
            raise ValueError(f'{self.ann_file}: the split file is empty')
        img_dir = self.data_prefix['img_path']
        ann_dir = self.data_prefix['seg_map_path']
        num_classes = len(self.metainfo['classes'])
        data_list = []
        for i in ids:
            img = osp.join(img_dir, i + self.img_suffix)
            seg = osp.join(ann_dir, i + self.seg_map_suffix)
            for kind, path in (('image', img), ('mask', seg)):
                if not osp.isfile(path):
                    raise FileNotFoundError(
                        f'{self.ann_file} names id {i}, but its {kind} '
                        f'{path} does not exist')
            data_list.append(
                dict(img_path=img, seg_map_path=seg, img_id=i,
                     has_pixel_label=True, num_classes=num_classes,
                     label_map=self.label_map,
                     reduce_zero_label=self.reduce_zero_label,
                     seg_fields=[]))
        check_not_empty([p for d in data_list
                         for p in (d['img_path'], d['seg_map_path'])],
                        self.ann_file)
        if self.check_masks:
            self._check_mask_values(data_list)
        return data_list

    def _check_mask_values(self, data_list: List[dict]) -> None:
        """Refuse mask values without a class; count unlisted classes."""
        note = ''
        if self.mask_classes == list(VOC_CLASSES):
            note = (' Mask values were read as VOC 2012 class indices (1 '
                    'aeroplane .. 20 tvmonitor); if your masks number your '
                    'own class list (value = position in --classes), add '
                    '--mask-values listed.')
        tally = self._tally(note)
        n = len(self.mask_classes)
        for info in data_list:
            path = info['seg_map_path']
            try:
                with Image.open(path) as im:
                    mode, mask = im.mode, np.asarray(im)
            except (OSError, ValueError) as e:
                raise ValueError(f'mask {path} (image {info["img_id"]}) '
                                 f'cannot be read: {e}') from e
            if mask.ndim != 2:
                raise ValueError(
                    f'mask {path} (image {info["img_id"]}) is a {mode} '
                    'image; masks hold one class index per pixel (palette '
                    'or grayscale PNG, as VOC\'s SegmentationClass)')
            # the image's header only: a mask of another size is found
            # here, at start, not at the first validation after training
            try:
                with Image.open(info['img_path']) as im:
                    size = im.size[::-1]
            except (OSError, ValueError) as e:
                raise ValueError(f'image {info["img_path"]} cannot be '
                                 f'read: {e}') from e
            if mask.shape != size:
                raise ValueError(
                    f'mask {path} is {mask.shape[1]}x{mask.shape[0]} '
                    f'(width x height), its image {info["img_path"]} '
                    f'{size[1]}x{size[0]}: labels would not line up')
            values = np.unique(mask).astype(np.int64)
            if self.reduce_zero_label:  # as mmseg's LoadAnnotations: 0 and
                values = values - 1  # 255 (now -1 and 254) become ignore
                values[(values == -1) | (values == 254)] = self.ignore_index
            for v in values.tolist():
                if v == self.ignore_index:
                    continue
                if not 0 <= v < n:
                    raise ValueError(
                        f'mask {path} (image {info["img_id"]}) holds value '
                        f'{v}, but mask_classes has {n} classes (values '
                        f'0..{n - 1}, {self.ignore_index} = ignore): '
                        f'{self.mask_classes}')
                name = self.mask_classes[v]
                if name not in tally.classes:
                    tally.count_unlisted(name, info['img_id'], path)
        tally.report()
