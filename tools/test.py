"""Test (and evaluate) a segmentor: mmseg's ``tools/test.py`` with the plugin.

Same command line as mmseg's, plus ``--data-root``/``--classes`` (point the
config at other VOC-layout data, see docs/own_data.md). Differences:
``import mmseg_lrp.plugin`` (registers the plugin's components),
checkpoints made loadable on torch >= 2.6; the data paths, the number of
classes, the component names and the checkpoint (built against the config's
model: the same classes and shapes) are checked before any data is read;
``--out`` works with a list of evaluators (the LRP configs': IoU +
classifier).
"""
import argparse
import os.path as osp

from mmengine.config import Config
from mmengine.runner import Runner

import mmseg_lrp.plugin  # noqa: F401
from mmseg_lrp.apis import check_config_checkpoint
from mmseg_lrp.utils import (add_runner_args, check_data_paths,
                             check_num_classes, close_distributed,
                             dump_test_metrics_once, explain_build_errors,
                             parse_runner_args, prepare_cpu_distributed,
                             tool_config_from_args)


def parse_args():
    parser = argparse.ArgumentParser(
        description='MMSeg test (and eval) a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir',
        help=('if specified, the evaluation metric results will be dumped'
              'into the directory as json'))
    parser.add_argument(
        '--out',
        type=str,
        help='The directory to save output prediction for offline evaluation')
    parser.add_argument(
        '--show', action='store_true', help='show prediction results')
    parser.add_argument(
        '--show-dir',
        help='directory where painted images will be saved. '
        'If specified, it will be automatically saved '
        'to the work_dir/timestamp/show_dir')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='the interval of show (s)')
    parser.add_argument(
        '--tta', action='store_true', help='Test time augmentation')
    add_runner_args(parser)
    return parse_runner_args(parser)


def trigger_visualization_hook(cfg, args):
    default_hooks = cfg.default_hooks
    if 'visualization' in default_hooks:
        visualization_hook = default_hooks['visualization']
        # Turn on visualization
        visualization_hook['draw'] = True
        if args.show:
            visualization_hook['show'] = True
            visualization_hook['wait_time'] = args.wait_time
        if args.show_dir:
            visualizer = cfg.visualizer
            visualizer['save_dir'] = args.show_dir
    else:
        raise RuntimeError(
            'VisualizationHook must be included in default_hooks.'
            'refer to usage '
            '"visualization=dict(type=\'VisualizationHook\')"')
    return cfg


def set_output_dir(cfg: Config, out: str) -> None:
    """mmseg's ``--out``: IoUMetric writes the predictions to ``out``.

    mmseg sets ``test_evaluator['output_dir']``, which fails for a list of
    evaluators; here every evaluator that writes predictions gets it.
    """
    evaluators = cfg.test_evaluator
    if isinstance(evaluators, dict):
        evaluators = [evaluators]
    writers = [e for e in evaluators
               if str(e.get('type', '')).split('.')[-1] == 'IoUMetric']
    if not writers:
        raise SystemExit(
            f'--out {out}: no IoUMetric in test_evaluator '
            f'{[e.get("type") for e in evaluators]} to write predictions')
    for e in writers:
        e['output_dir'] = out
        e['keep_results'] = True


def main():
    args = parse_args()
    cfg = tool_config_from_args(args)
    check_num_classes(cfg)
    if '://' not in args.checkpoint and not osp.isfile(args.checkpoint):
        raise FileNotFoundError(
            f'checkpoint {args.checkpoint!r} does not exist')
    cfg.load_from = args.checkpoint

    if args.show or args.show_dir:
        cfg = trigger_visualization_hook(cfg, args)

    if args.tta:
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
        cfg.tta_model.module = cfg.model
        cfg.model = cfg.tta_model

    if args.out is not None:
        set_output_dir(cfg, args.out)

    check_data_paths(cfg, ['test_dataloader'])
    prepare_cpu_distributed(cfg)  # --launcher pytorch without CUDA: gloo
    with explain_build_errors(cfg):
        check_config_checkpoint(cfg, args.checkpoint)
        runner = Runner.from_cfg(cfg)
        dump_test_metrics_once(runner)  # one rank writes the metrics JSON
        runner.test()
    close_distributed()


if __name__ == '__main__':
    main()
