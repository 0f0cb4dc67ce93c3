"""Deprecated: the batch-size check of the former semi-supervised sampler."""
import warnings

from mmengine.hooks import Hook
from mmseg.registry import HOOKS


@HOOKS.register_module()
class SemiBatchCheckHook(Hook):
    """Does nothing; kept so that configs listing it still load.

    ``SemiSupervisedBatchSampler`` takes the batch size from the dataloader,
    so batch size and sample mix can no longer disagree. Remove the hook
    from ``custom_hooks``.
    """

    def __init__(self) -> None:
        warnings.warn(
            'SemiBatchCheckHook is deprecated and does nothing: '
            'SemiSupervisedBatchSampler (train_dataloader.batch_sampler) '
            'makes the pixel/image mix by construction; remove the hook '
            'from custom_hooks', FutureWarning, stacklevel=2)
