"""Refuse to train from scratch where a method starts from a checkpoint."""
from mmengine.hooks import Hook
from mmseg.registry import HOOKS


@HOOKS.register_module()
class RequireCheckpointHook(Hook):
    """Stop before training unless the run starts from a checkpoint
    (``load_from``, or ``resume`` with a checkpoint to resume).

    The paper's stage 2 starts from the stage-1 classifier; without it the
    run would train from ImageNet weights and a random classifier and
    silently be another method. Used by the ``paper_compat`` stage-2
    configs.

    Args:
        what: What the checkpoint should be, for the message.
    """

    priority = 'VERY_HIGH'

    def __init__(self, what: str = 'the stage-1 classifier') -> None:
        self.what = what

    def before_train(self, runner) -> None:
        # after load_or_resume: also catches --resume finding no checkpoint
        if runner._has_loaded:
            return
        raise RuntimeError(
            f'{type(self).__name__}: this config trains from a checkpoint of '
            f'{self.what}; pass it as load_from (tools/train.py CONFIG '
            '--cfg-options load_from=work_dirs/<stage-1 run>/<ckpt>.pth) or '
            'resume a run (--resume)')
