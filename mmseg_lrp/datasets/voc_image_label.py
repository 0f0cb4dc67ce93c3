"""The image-level pool of semi-supervised PASCAL VOC."""
import os
import os.path as osp
from typing import List, Optional, Sequence

from mmseg.datasets import BaseSegDataset, PascalVOCDataset
from mmseg.registry import DATASETS

from .class_names import ConfigClassesMixin
from .voc_labels import (check_not_empty, collect_image_labels, read_id_list,
                         read_label_cache)


@DATASETS.register_module()
class VOCImageLabelDataset(ConfigClassesMixin, BaseSegDataset):
    """PASCAL VOC images with image-level labels (``Annotations/*.xml``).

    The pool is every JPEG of ``data_prefix.img_path`` (or the ids of
    ``ann_file``) minus the ids of ``exclude_files`` (by default the
    segmentation val list, as in the original protocol). Samples carry
    ``has_pixel_label=False``, no ``seg_map_path`` (no mask is ever opened:
    ``LoadSemiAnnotations`` makes an all-ignore mask) and ``img_labels``,
    the indices of their classes in this dataset's class list (background
    always, VOC's XMLs do not list it). Class names come from the XMLs or
    the JSON cache of ``tools/dataset_converters/voc_image_labels.py`` and
    are matched against the config's ``metainfo.classes`` ignoring case
    (any names: VOC's, a subset, or a dataset's own); objects of classes the
    config does not list are refused by default (``unlisted_classes``).

    Args:
        ann_file: Optional id list; empty means every image in the folder.
        exclude_files: Id lists whose ids leave the pool. The original
            code's image-level pool also leaves out the pixel-labelled
            training images (its pools are disjoint): add their split file
            here, or set ``SemiVOCDataset(disjoint_pools=True)``.
        optional_exclude_files: Id lists whose ids leave the pool where the
            file exists, e.g. the toy data's test split
            (``ImageSets/Segmentation/test.txt``), which VOC 2012 and most
            own datasets do not have.
        labels_file: Optional JSON label cache (relative to data_root). It
            is refused where the XMLs of the pool's ids changed, went
            missing or were added since it was written (an error naming
            them and the command that rebuilds it; one ``os.stat`` per id).
        ann_dir: Folder of the XMLs (relative to data_root).
        background_present: Mark background present in every image label.
        mask_classes: The class of each mask value (default VOC 2012's 21);
            only sets ``label_map`` and the palette here (no masks are read).
        unlisted_classes: What objects of classes not in
            ``metainfo.classes`` make: ``'error'`` (default, naming them and
            their images), ``'warn'`` (log, drop them) or ``'ignore'``.
        **kwargs: As :class:`BaseSegDataset` (``data_prefix`` needs only
            ``img_path``; ``seg_map_path`` is refused).
    """
    METAINFO = PascalVOCDataset.METAINFO

    def __init__(self,
                 ann_file: str = '',
                 exclude_files: Sequence[str] = (
                     'ImageSets/Segmentation/val.txt', ),
                 optional_exclude_files: Sequence[str] = (),
                 labels_file: Optional[str] = None,
                 ann_dir: str = 'Annotations',
                 background_present: bool = True,
                 mask_classes: Optional[Sequence[str]] = None,
                 unlisted_classes: str = 'error',
                 img_suffix: str = '.jpg',
                 **kwargs) -> None:
        self._init_classes(mask_classes, unlisted_classes)
        root = kwargs.get('data_root') or ''
        self.exclude_files = [osp.join(root, f) for f in exclude_files]
        self.exclude_files += [
            p for p in (osp.join(root, f) for f in optional_exclude_files)
            if osp.isfile(p)
        ]
        self.labels_file = osp.join(root, labels_file) if labels_file else None
        self.ann_dir = osp.join(root, ann_dir)
        self.background_present = background_present
        super().__init__(ann_file=ann_file, img_suffix=img_suffix, **kwargs)

    def _pool_ids(self) -> List[str]:
        img_dir = self.data_prefix.get('img_path')
        if not img_dir or not osp.isdir(img_dir):
            raise FileNotFoundError(
                f'VOCImageLabelDataset: image folder not found: {img_dir}')
        if self.ann_file:
            ids = read_id_list(self.ann_file)
            for i in ids:
                path = osp.join(img_dir, i + self.img_suffix)
                if not osp.isfile(path):
                    raise FileNotFoundError(
                        f'{self.ann_file} names id {i}, but its image '
                        f'{path} does not exist')
        else:
            n = len(self.img_suffix)
            ids = sorted(f[:-n] for f in os.listdir(img_dir)
                         if f.endswith(self.img_suffix))
        excluded = set()
        for f in self.exclude_files:
            excluded.update(read_id_list(f))
        pool = [i for i in ids if i not in excluded]
        if not pool:
            src = self.ann_file or img_dir
            raise ValueError(
                f'VOCImageLabelDataset: empty image pool ({len(ids)} ids in '
                f'{src}, all excluded by {self.exclude_files})')
        check_not_empty([osp.join(img_dir, i + self.img_suffix)
                         for i in pool], self.ann_file or img_dir)
        return pool

    def load_data_list(self) -> List[dict]:
        if self.data_prefix.get('seg_map_path'):
            raise KeyError(
                'VOCImageLabelDataset must not get data_prefix.seg_map_path: '
                'its samples have image-level labels only (use _delete_=True '
                'when inheriting a data_prefix that sets it)')
        ids = self._pool_ids()
        if self.labels_file:
            # refuses a cache whose XMLs changed since it was written
            names = read_label_cache(self.labels_file, ids, self.ann_dir)
        else:
            names = collect_image_labels(self.ann_dir, ids)
        classes = list(self.metainfo['classes'])
        img_dir = self.data_prefix['img_path']
        tally = self._tally(labels=names)
        data_list = []
        for i in ids:
            path = self.labels_file or osp.join(self.ann_dir, f'{i}.xml')
            labels = sorted({tally.index(n, i, path) for n in names[i]}
                            - {None})
            if self.background_present and 'background' in classes:
                labels = sorted({classes.index('background'), *labels})
            data_list.append(
                dict(img_path=osp.join(img_dir, i + self.img_suffix),
                     img_id=i, has_pixel_label=False, img_labels=labels,
                     num_classes=len(classes), label_map=self.label_map,
                     reduce_zero_label=self.reduce_zero_label,
                     seg_fields=[]))
        tally.report()
        return data_list
