"""Refuse a dataloader whose batch size differs from the semi-supervised
sampler's."""
from mmengine.hooks import Hook
from mmseg.registry import HOOKS

from mmseg_lrp.datasets.samplers import SemiSupervisedSampler


@HOOKS.register_module()
class SemiBatchCheckHook(Hook):
    """Before training, check that the train dataloader batches exactly the
    ``batch_size`` that its :class:`SemiSupervisedSampler` mixes for;
    otherwise batches would straddle the pixel/image pattern and the ratio
    of pixel-labelled samples would be silently wrong."""

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        loader = runner.train_loop.dataloader
        sampler = getattr(loader, 'sampler', None)
        if not isinstance(sampler, SemiSupervisedSampler):
            return
        batch = loader.batch_size
        if batch is None:  # a batch sampler
            batch = getattr(loader.batch_sampler, 'batch_size', None)
        if batch != sampler.batch_size:
            raise ValueError(
                f'train_dataloader.batch_size={batch} differs from '
                f'train_dataloader.sampler.batch_size={sampler.batch_size} '
                '(SemiSupervisedSampler): set both to the same value')
