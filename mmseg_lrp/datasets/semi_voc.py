"""The semi-supervised training set: a pixel-labelled and an image-level
pool, with the pixel split as one argument."""
from typing import Optional, Sequence, Union

from mmengine.dataset import BaseDataset, ConcatDataset
from mmseg.registry import DATASETS


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
        **kwargs: Other :class:`ConcatDataset` arguments.
    """

    def __init__(self,
                 datasets: Sequence[Union[BaseDataset, dict]],
                 pixel_split: Optional[str] = None,
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
        super().__init__(datasets, **kwargs)
