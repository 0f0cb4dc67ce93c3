"""Infinite sampler giving every batch a fixed number of pixel-labelled
samples."""
import itertools
from typing import Iterator, List, Optional, Sized

import torch
from mmengine.dist import get_dist_info, sync_random_seed
from mmseg.registry import DATA_SAMPLERS
from torch.utils.data import Sampler


@DATA_SAMPLERS.register_module()
class SemiSupervisedSampler(Sampler):
    """Batches of ``num_pixel_labelled`` pixel-labelled samples followed by
    ``batch_size - num_pixel_labelled`` image-labelled ones (e.g. 5 + 5).

    The dataset (typically a ConcatDataset of ``VOCPixelLabelDataset`` and
    ``VOCImageLabelDataset``) is split into two pools by each sample's
    ``has_pixel_label``. Each pool is an endless stream of seeded random
    permutations, the same on every rank; rank ``r`` of ``W`` takes elements
    ``r, r + W, ...`` of each stream, as mmengine's ``InfiniteSampler``
    does, so ranks see disjoint samples and the whole stream depends only on
    the seed (restarts and resumed runs, where mmengine restores the seed
    and skips the consumed batches, see the same batches).

    The dataloader groups consecutive indices into batches, so its
    ``batch_size`` must equal this sampler's: ``tools/train.py`` and
    :class:`SemiBatchCheckHook` refuse a mismatch.

    Args:
        dataset: The dataset; every sample's data info has
            ``has_pixel_label``.
        batch_size: Samples per batch (per rank), as the dataloader's.
        num_pixel_labelled: Pixel-labelled samples per batch.
        shuffle: Random permutations (else cyclic order).
        seed: Random seed; None draws one shared by all ranks.
    """

    def __init__(self,
                 dataset: Sized,
                 batch_size: int,
                 num_pixel_labelled: int,
                 shuffle: bool = True,
                 seed: Optional[int] = None) -> None:
        if batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}')
        if not 0 <= num_pixel_labelled <= batch_size:
            raise ValueError(
                f'num_pixel_labelled must be in [0, batch_size={batch_size}],'
                f' got {num_pixel_labelled}')
        self.dataset = dataset
        self.batch_size = batch_size
        self.num_pixel_labelled = num_pixel_labelled
        self.shuffle = shuffle
        self.seed = sync_random_seed() if seed is None else seed
        self.rank, self.world_size = get_dist_info()
        self.pixel_indices, self.image_indices = self._pools()

    def _pools(self):
        pixel, image = [], []
        for i in range(len(self.dataset)):
            info = self.dataset.get_data_info(i)
            if 'has_pixel_label' not in info:
                raise KeyError(
                    f'SemiSupervisedSampler: sample {i} '
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
                    f'SemiSupervisedSampler: {need} {name} samples per batch,'
                    f' but the dataset has {len(pool)} (need at least one '
                    f'per rank, {self.world_size} ranks)')
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

    def __iter__(self) -> Iterator[int]:
        n_pix = self.num_pixel_labelled
        n_img = self.batch_size - n_pix
        pixel = self._stream(self.pixel_indices, 0) if n_pix else None
        image = self._stream(self.image_indices, 1) if n_img else None
        while True:
            if n_pix:
                yield from itertools.islice(pixel, n_pix)
            if n_img:
                yield from itertools.islice(image, n_img)

    def __len__(self) -> int:
        return len(self.dataset)

    def set_epoch(self, epoch: int) -> None:
        """Not used: the streams are endless."""
