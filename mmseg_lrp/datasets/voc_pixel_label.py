"""The pixel-labelled pool of semi-supervised PASCAL VOC."""
import os.path as osp
from typing import List

from mmseg.datasets import PascalVOCDataset
from mmseg.registry import DATASETS

from .voc_labels import read_id_list


@DATASETS.register_module()
class VOCPixelLabelDataset(PascalVOCDataset):
    """PASCAL VOC images with ``SegmentationClass`` masks, from a split file.

    mmseg's :class:`PascalVOCDataset`, plus: every id of the split file is
    checked to have its image and mask (a missing one is an error naming the
    split file and the id), and every sample carries ``has_pixel_label=True``,
    ``img_id`` and ``num_classes`` for the semi-supervised pipeline
    (``LoadSemiAnnotations``, ``PackSemiSegInputs``) and the
    ``SemiSupervisedSampler``. Used for the training pool (a split file of
    ``tools/dataset_converters/make_voc_splits.py``) and for validation.

    Args:
        ann_file: The split file, one id per line (relative to data_root).
        data_prefix: Must name ``img_path`` and ``seg_map_path``.
        **kwargs: As :class:`PascalVOCDataset`.
    """

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
        return data_list
