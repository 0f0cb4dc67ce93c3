"""Train a segmentor: mmseg's ``tools/train.py`` with the plugin loaded.

Same command line as mmseg's, plus ``--data-root``/``--classes``/
``--mask-values`` (train on other VOC-layout data: every dataset and head set
at once, see docs/own_data.md). Differences: ``import mmseg_lrp.plugin``
(registers the plugin's components; checkpoints made loadable on
torch >= 2.6), and data paths, the number of classes and component names are
checked up front for clear errors. Checkpoints are safe (docs/usage.md,
"Checkpoints and work dirs"): a work dir holding checkpoints is refused
unless ``--resume`` or ``--overwrite``; ``--resume`` without a usable
checkpoint is refused unless ``--resume-if-present``; a plain
``CheckpointHook`` becomes ``AtomicCheckpointHook``.
"""
import argparse
import logging

from mmengine.logging import print_log
from mmengine.runner import Runner

import mmseg_lrp.plugin  # noqa: F401
from mmseg.registry import RUNNERS
from mmseg_lrp.utils import (WorkDirError, add_runner_args, check_data_paths,
                             check_num_classes, check_work_dir,
                             close_distributed, explain_build_errors,
                             parse_runner_args, prepare_cpu_distributed,
                             tool_config_from_args, use_atomic_checkpoints)


def parse_args():
    parser = argparse.ArgumentParser(description='Train a segmentor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        action='store_true',
        default=False,
        help='resume from the latest checkpoint in the work_dir '
        '(its last_checkpoint; with --cfg-options load_from=PATH from PATH); '
        'refused when there is none')
    parser.add_argument(
        '--resume-if-present',
        action='store_true',
        default=False,
        help='resume as --resume when the work_dir holds checkpoints, else '
        'train from scratch (requeued jobs)')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        default=False,
        help='train from scratch even though the work_dir holds checkpoints '
        'of an earlier run (they are replaced as this run saves)')
    parser.add_argument(
        '--amp',
        action='store_true',
        default=False,
        help='enable automatic-mixed-precision training')
    add_runner_args(parser)
    return parse_runner_args(parser)


def main():
    args = parse_args()
    cfg = tool_config_from_args(args)

    if args.amp is True:
        optim_wrapper = cfg.optim_wrapper.type
        if optim_wrapper == 'AmpOptimWrapper':
            print_log(
                'AMP training is already enabled in your config.',
                logger='current',
                level=logging.WARNING)
        else:
            assert optim_wrapper == 'OptimWrapper', (
                '`--amp` is only supported when the optimizer wrapper type is '
                f'`OptimWrapper` but got {optim_wrapper}.')
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'

    try:
        cfg.resume = check_work_dir(cfg.work_dir, args.resume,
                                    args.resume_if_present, args.overwrite,
                                    cfg.get('load_from', None))
    except WorkDirError as e:
        raise SystemExit(f'{type(e).__name__}: {e}')
    use_atomic_checkpoints(cfg)

    loaders = ['train_dataloader']
    if cfg.get('val_cfg', None):
        loaders.append('val_dataloader')
    check_data_paths(cfg, loaders)
    check_num_classes(cfg)
    prepare_cpu_distributed(cfg)  # --launcher pytorch without CUDA: gloo
    with explain_build_errors(cfg):
        if 'runner_type' not in cfg:
            runner = Runner.from_cfg(cfg)
        else:
            runner = RUNNERS.build(cfg)
        runner.train()
    close_distributed()


if __name__ == '__main__':
    main()
