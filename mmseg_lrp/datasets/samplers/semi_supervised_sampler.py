"""The former per-index semi-supervised sampler: now a clear error."""
from mmseg.registry import DATA_SAMPLERS


@DATA_SAMPLERS.register_module()
class SemiSupervisedSampler:
    """Replaced by :class:`SemiSupervisedBatchSampler` (mmengine's
    ``batch_sampler`` slot), which takes the batch size from the dataloader
    so that the two can no longer disagree. Building this raises an error
    that says how to change the config."""

    def __init__(self, *args, num_pixel_labelled=None, **kwargs) -> None:
        n = 'N' if num_pixel_labelled is None else num_pixel_labelled
        raise ValueError(
            "train_dataloader.sampler: 'SemiSupervisedSampler' was replaced "
            "by a batch sampler; use sampler=dict(type='InfiniteSampler', "
            "shuffle=True), batch_sampler=dict(type="
            f"'SemiSupervisedBatchSampler', num_pixel_labelled={n}) (the "
            'batch size is train_dataloader.batch_size)')
