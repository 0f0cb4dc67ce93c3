"""The semi-supervised training set: a pixel-labelled and an image-level
pool, with the pixel split as one argument."""
import inspect
import os.path as osp
from typing import Optional, Sequence, Union

from mmengine.dataset import BaseDataset, ConcatDataset
from mmseg.registry import DATASETS
from .voc_image_label import VOCImageLabelDataset


@DATASETS.register_module()
class SemiVOCDataset(ConcatDataset):
    """mmengine's ConcatDataset of a pixel-labelled pool
    (``VOCPixelLabelDataset``) and an image-level pool
    (``VOCImageLabelDataset``), whose pixel split is one argument, so that
    configs for another label budget differ in one line::

        train_dataloader = dict(dataset=dict(
            pixel_split='ImageSets/SemiSeg/paper_100_seed0.txt'))

    Args:
        datasets: ``[pixel_pool, image_pool]`` configs (or datasets).
        pixel_split: Split file of the pixel-labelled pool (relative to its
            ``data_root``); sets ``datasets[0].ann_file``, which must then
            be unset or the same (two different splits are an error, not a
            silent choice). None keeps ``datasets[0].ann_file``.
        disjoint_pools: Leave the pixel-labelled ids out of the image-level
            pool (adds the pixel split to ``datasets[1].exclude_files``), as
            the original code did; default False: they are in both pools.
        **kwargs: Other :class:`ConcatDataset` arguments.
    """

    def __init__(self,
                 datasets: Sequence[Union[BaseDataset, dict]],
                 pixel_split: Optional[str] = None,
                 disjoint_pools: bool = False,
                 **kwargs) -> None:
        datasets = list(datasets)
        if len(datasets) != 2:
            raise ValueError(
                'SemiVOCDataset: datasets must be [pixel_pool, image_pool], '
                f'got {len(datasets)} datasets')
        if pixel_split is not None:
            pixel = datasets[0]
            if not isinstance(pixel, dict) or 'VOCPixelLabelDataset' not in \
                    str(pixel.get('type', '')):
                raise ValueError(
                    'SemiVOCDataset: pixel_split needs datasets[0] to be a '
                    f"VOCPixelLabelDataset config, got {pixel!r:.200}")
            ann = pixel.get('ann_file', None)
            if ann and ann != pixel_split:
                raise ValueError(
                    f'SemiVOCDataset: pixel_split={pixel_split!r} and '
                    f'datasets[0].ann_file={ann!r} name different splits; '
                    'set only pixel_split')
            datasets[0] = dict(pixel, ann_file=pixel_split)
        if disjoint_pools:
            datasets[1] = self._without_pixel_ids(*datasets)
        super().__init__(datasets, **kwargs)

    @staticmethod
    def _without_pixel_ids(pixel: Union[BaseDataset, dict],
                           image: Union[BaseDataset, dict]) -> dict:
        if not (isinstance(pixel, dict) and isinstance(image, dict)):
            raise ValueError('SemiVOCDataset: disjoint_pools needs both pools '
                             'as configs')
        split = pixel.get('ann_file', None)
        if not split:
            raise ValueError('SemiVOCDataset: disjoint_pools needs the pixel '
                             'split (pixel_split or datasets[0].ann_file)')
        split = osp.join(pixel.get('data_root', None) or '', split)
        default = inspect.signature(VOCImageLabelDataset).parameters[
            'exclude_files'].default
        exclude = list(image.get('exclude_files', default))
        return dict(image, exclude_files=exclude + [osp.abspath(split)])
