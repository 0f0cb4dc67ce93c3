"""Distributed training on CPU-only machines (gloo) through mmengine."""
import os

import torch
import torch.distributed as torch_dist
from mmengine.config import Config


def prepare_cpu_distributed(cfg: Config) -> bool:
    """Make ``--launcher pytorch`` work on a machine without CUDA.

    mmengine 0.10.7's ``_init_dist_pytorch`` calls ``torch.cuda.set_device``
    unconditionally, and its runner wraps the model in DDP with
    ``device_ids=[LOCAL_RANK]``; both fail on CPU. Here the process group is
    initialised with gloo from torchrun's environment before the runner is
    built (mmengine then skips its own initialisation) and the DDP wrapper
    gets ``device_ids=None``. With CUDA, or without a launcher, nothing
    changes.

    Args:
        cfg: The tool's config (``cfg.launcher`` set).

    Returns:
        Whether the CPU path was taken.
    """
    if cfg.get('launcher', 'none') != 'pytorch' or torch.cuda.is_available():
        return False
    for key in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
        if key not in os.environ:
            raise RuntimeError(
                f'--launcher pytorch needs ${key}: start the tool with '
                'torchrun (tools/dist_train.sh, tools/dist_test.sh)')
    if not torch_dist.is_initialized():
        torch_dist.init_process_group(backend='gloo')
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
    cfg.env_cfg.dist_cfg['backend'] = 'gloo'
    wrapper = cfg.get('model_wrapper_cfg', None) or dict(
        type='MMDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    return True


def close_distributed() -> None:
    """End a tool's distributed run cleanly: wait for every rank, then
    destroy the process group. Left to interpreter exit, gloo's threads can
    abort a rank that has finished its work ("terminate called without an
    active exception", SIGABRT), failing torchrun's exit status."""
    if torch_dist.is_available() and torch_dist.is_initialized():
        torch_dist.barrier()
        torch_dist.destroy_process_group()


def dump_test_metrics_once(runner) -> None:
    """Let only rank 0 write the test metrics JSON.

    mmengine 0.10.7's ``LoggerHook.after_test_epoch`` dumps the metrics on
    every rank into the same file (``WORK_DIR/TIMESTAMP/TIMESTAMP.json``);
    two ranks truncating and writing it at once can leave a corrupt file
    (one rank's text with the tail of the other's). Other ranks still log.

    Args:
        runner: A built mmengine ``Runner`` (distributed set up).
    """
    from mmengine.dist import is_main_process
    from mmengine.hooks import LoggerHook
    if is_main_process():
        return
    for hook in runner.hooks:
        if isinstance(hook, LoggerHook):

            def after_test_epoch(runner, metrics=None):
                _, log_str = runner.log_processor.get_log_after_epoch(
                    runner, len(runner.test_dataloader), 'test',
                    with_non_scalar=True)
                runner.logger.info(log_str)

            hook.after_test_epoch = after_test_epoch
