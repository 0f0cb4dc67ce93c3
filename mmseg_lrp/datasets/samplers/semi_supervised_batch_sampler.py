"""Batch sampler giving every batch a fixed number of pixel-labelled
samples."""
import itertools
from typing import Iterator, List

import torch
from mmengine.dist import get_dist_info, sync_random_seed
from mmseg.registry import DATA_SAMPLERS
from torch.utils.data import BatchSampler, Sampler


@DATA_SAMPLERS.register_module()
class SemiSupervisedBatchSampler(BatchSampler):
    """Batches of ``num_pixel_labelled`` pixel-labelled samples followed by
    ``batch_size - num_pixel_labelled`` image-labelled ones (e.g. 5 + 5).

    Fills mmengine's ``batch_sampler`` slot (as mmdet's
    ``AspectRatioBatchSampler``), so the batch size is the dataloader's own
    and the mix holds by construction::

        train_dataloader = dict(
            batch_size=10,
            sampler=dict(type='InfiniteSampler', shuffle=True),
            batch_sampler=dict(type='SemiSupervisedBatchSampler',
                               num_pixel_labelled=5),
            dataset=dict(type='ConcatDataset', datasets=[pixel, image]))

    The sampler's dataset (typically a ConcatDataset of
    ``VOCPixelLabelDataset`` and ``VOCImageLabelDataset``) is split into two
    pools by each sample's ``has_pixel_label``; the sampler gives the seed
    and whether to shuffle. Each pool is an endless stream of seeded random
    permutations, the same on every rank; rank ``r`` of ``W`` takes elements
    ``r, r + W, ...`` of each stream, as mmengine's ``InfiniteSampler``
    does, so ranks see disjoint samples and the whole stream depends only on
    the seed (restarts and resumed runs, where mmengine restores the seed
    and skips the consumed batches, see the same batches). The small pixel
    pool is thus revisited far more often than the image pool, as in the
    original protocol.

    Args:
        sampler: The dataloader's sampler (its ``dataset``, ``seed`` and
            ``shuffle`` are used; its order is not).
        batch_size: Samples per batch per rank (the dataloader's).
        num_pixel_labelled: Pixel-labelled samples per batch.
        drop_last: Unused (the streams are endless); accepted for
            mmengine's interface.
    """

    def __init__(self,
                 sampler: Sampler,
                 batch_size: int,
                 num_pixel_labelled: int,
                 drop_last: bool = False) -> None:
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError('train_dataloader.batch_size must be an int >= '
                             f'1, got {batch_size!r}')
        if not 0 <= num_pixel_labelled <= batch_size:
            raise ValueError(
                'train_dataloader.batch_sampler.num_pixel_labelled must be '
                f'in [0, batch_size={batch_size}], got {num_pixel_labelled}')
        dataset = getattr(sampler, 'dataset', None)
        if dataset is None:
            raise TypeError('SemiSupervisedBatchSampler needs a sampler with '
                            f'a dataset, got {type(sampler).__name__}')
        self.sampler = sampler
        self.dataset = dataset
        self.batch_size = batch_size
        self.num_pixel_labelled = num_pixel_labelled
        self.drop_last = drop_last
        self.shuffle = getattr(sampler, 'shuffle', True)
        seed = getattr(sampler, 'seed', None)
        self.seed = sync_random_seed() if seed is None else seed
        self.rank, self.world_size = get_dist_info()
        self.pixel_indices, self.image_indices = self._pools()

    def _pools(self):
        pixel, image = [], []
        for i in range(len(self.dataset)):
            info = self.dataset.get_data_info(i)
            if 'has_pixel_label' not in info:
                raise KeyError(
                    f'SemiSupervisedBatchSampler: sample {i} '
                    f'({info.get("img_path")}) has no has_pixel_label; '
                    'build the pools with VOCPixelLabelDataset and '
                    'VOCImageLabelDataset')
            (pixel if info['has_pixel_label'] else image).append(i)
        n_img = self.batch_size - self.num_pixel_labelled
        for name, pool, need in (('pixel-labelled', pixel,
                                  self.num_pixel_labelled),
                                 ('image-labelled', image, n_img)):
            if need and len(pool) < self.world_size:
                raise ValueError(
                    f'SemiSupervisedBatchSampler: {need} {name} samples per '
                    f'batch, but the dataset has {len(pool)} (need at least '
                    f'one per rank, {self.world_size} ranks)')
        return pixel, image

    def _stream(self, pool: List[int], offset: int) -> Iterator[int]:
        """Endless permutations of ``pool``; this rank's share."""

        def endless():
            g = torch.Generator()
            g.manual_seed(self.seed + offset)
            while True:
                if self.shuffle:
                    yield from (pool[i] for i in torch.randperm(
                        len(pool), generator=g).tolist())
                else:
                    yield from pool

        return itertools.islice(endless(), self.rank, None, self.world_size)

    def __iter__(self) -> Iterator[List[int]]:
        n_pix = self.num_pixel_labelled
        n_img = self.batch_size - n_pix
        pixel = self._stream(self.pixel_indices, 0) if n_pix else iter(())
        image = self._stream(self.image_indices, 1) if n_img else iter(())
        while True:
            yield (list(itertools.islice(pixel, n_pix)) +
                   list(itertools.islice(image, n_img)))

    def __len__(self) -> int:
        """Batches in one pass over the dataset, as a DataLoader counts
        them (the stream itself is endless)."""
        return max(1, -(-len(self.dataset) // self.batch_size))

    def set_epoch(self, epoch: int) -> None:
        """Not used: the streams are endless."""
