"""Training step time, inference throughput, peak memory and FLOPs of
segmentors, side by side.

Every config is measured in a fresh child process (so peak memory is its
own) on the same synthetic batch, and the table shows each model's numbers
and their ratios to the first config, all from one run: on a shared, noisy
machine only ratios within one run are comparable.

    python tools/analysis_tools/benchmark.py CONFIG [CONFIG ...] \\
        --shape 96 96 --batch-size 8 --iters 10 [--pixel-labelled 4] \\
        [--device cuda] [--out r.json]

Training step = data preprocessing + forward + backward + optimizer step
(AdamW) on a batch of random images with random labels; inference = the
model's ``predict`` (whole-image mode) on the same batch without gradients.
Peak memory is that of the step above the level before it
(``mmseg_lrp.benchmark.time_steps``: ``torch.cuda.max_memory_allocated`` on
CUDA; on CPU the peak resident set, from a second process in which freed
tensors leave it at once). FLOPs: one image of the same size, inference
forward (``mmseg_lrp.utils.flops.get_flops``: the unrolled-LRP model's
encoder and all K heatmaps). ``--pixel-labelled N`` gives only the first N
samples masks and the others image-level labels (all-255 masks), as in
semi-supervised batches, where the unrolled-LRP model decodes only the N.
"""
import argparse
import os.path as osp
from typing import List, Optional

import torch

from mmseg_lrp.benchmark import (in_fresh_processes, random_batch,
                                 ratio_table, report, seg_data_samples,
                                 time_steps)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('configs', nargs='+', help='config files')
    parser.add_argument('--checkpoint', nargs='*', default=None,
                        help='checkpoints, one per config (default: random '
                        'initialisation; speed does not depend on weights)')
    parser.add_argument('--shape', type=int, nargs=2, default=(96, 96),
                        metavar=('H', 'W'))
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--iters', type=int, default=10,
                        help='timed iterations per phase')
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--device', default='cuda' if
                        torch.cuda.is_available() else 'cpu')
    parser.add_argument('--threads', type=int, default=None,
                        help='torch CPU threads (default: torch default)')
    parser.add_argument('--pixel-labelled', type=int, default=None,
                        help='samples of the batch with masks (default: '
                        'all); the others carry image-level labels only, '
                        'as in semi-supervised batches')
    parser.add_argument('--phases', nargs='+', default=['train', 'infer'],
                        choices=['train', 'infer'])
    parser.add_argument('--out', help='write the results as JSON here')
    return parser.parse_args()


def _measure(config: str, checkpoint: Optional[str], args: dict) -> dict:
    """Measure one config (runs in a child process)."""
    from mmengine.config import Config
    from mmengine.model import revert_sync_batchnorm
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope

    import mmseg_lrp.plugin  # noqa: F401 (registers)
    from mmseg.registry import MODELS
    from mmseg_lrp.apis import load_checked_checkpoint
    from mmseg_lrp.utils.flops import get_flops

    if args['threads']:
        torch.set_num_threads(args['threads'])
    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    device = args['device']
    model = MODELS.build(cfg.model)
    if checkpoint:
        load_checked_checkpoint(model, cfg, checkpoint)
    model = revert_sync_batchnorm(model).to(device)
    n = args['batch_size']
    n_pixel = args.get('pixel_labelled')
    data = random_batch(n, n if n_pixel is None else n_pixel, args['shape'],
                        model.decode_head.num_classes)
    batch = dict(inputs=list(data['images']),
                 data_samples=seg_data_samples(data))
    result = dict(config=config,
                  params=sum(p.numel() for p in model.parameters()))

    if 'train' in args['phases']:
        optim = build_optim_wrapper(
            model, dict(type='OptimWrapper',
                        optimizer=dict(type='AdamW', lr=1e-4)))
        model.train()

        def train_step():
            losses = model(**model.data_preprocessor(batch, True),
                           mode='loss')
            optim.update_params(model.parse_losses(losses)[0])

        result['train_step_s'], result['train_peak_mib'] = time_steps(
            train_step, args['iters'], args['warmup'], device)
    if 'infer' in args['phases']:
        model.eval()

        @torch.no_grad()
        def infer_step():
            model(**model.data_preprocessor(batch, False), mode='predict')

        seconds, result['infer_peak_mib'] = time_steps(
            infer_step, args['iters'], args['warmup'], device)
        result['infer_img_s'] = n / seconds
    # after the memory readings: counting builds a second model
    result['flops'] = get_flops(cfg, args['shape'], device)['flops']
    return result


def benchmark(configs: List[str],
              checkpoints: Optional[List[str]] = None,
              **kwargs) -> List[dict]:
    """Measure every config in its own process.

    Args:
        configs: Config files.
        checkpoints: Optional checkpoint per config.
        **kwargs: ``shape, batch_size, iters, warmup, device, threads,
            phases, pixel_labelled`` as on the command line.

    Returns:
        One dict of results per config, in order.
    """
    if checkpoints and len(checkpoints) != len(configs):
        raise ValueError(f'{len(checkpoints)} checkpoints given for '
                         f'{len(configs)} configs')
    results = []
    for i, config in enumerate(configs):
        if not osp.isfile(config):
            raise FileNotFoundError(f'config {config!r} does not exist')
        ckpt = checkpoints[i] if checkpoints else None
        results.append(in_fresh_processes(
            _measure, config, ckpt, kwargs, device=kwargs['device'],
            memory_args=(config, ckpt, dict(kwargs, iters=1))))
    return results


def format_table(results: List[dict]) -> str:
    """A markdown table with values and ratios to the first row."""
    rows = [dict(r, gflops=r['flops'] / 1e9, mparams=r['params'] / 1e6)
            for r in results]
    cols = [('train_step_s', 'train step (s)', '{:.4f}'),
            ('infer_img_s', 'inference (img/s)', '{:.3g}'),
            ('train_peak_mib', 'train peak (MiB)', '{:.0f}'),
            ('infer_peak_mib', 'infer peak (MiB)', '{:.0f}'),
            ('gflops', 'GFLOPs (1 image)', '{:.3f}'),
            ('mparams', 'params (M)', '{:.2f}')]
    return ratio_table(rows, 'config',
                       [c for c in cols if c[0] in rows[0]])


def main():
    args = parse_args()
    kwargs = dict(shape=tuple(args.shape), batch_size=args.batch_size,
                  iters=args.iters, warmup=args.warmup, device=args.device,
                  threads=args.threads, phases=args.phases,
                  pixel_labelled=args.pixel_labelled)
    results = benchmark(args.configs, args.checkpoint, **kwargs)
    pixel = 'all' if args.pixel_labelled is None else args.pixel_labelled
    report(f'device={args.device} threads={args.threads or "default"} '
           f'batch={args.batch_size} (pixel-labelled: {pixel}) '
           f'shape={tuple(args.shape)} iters={args.iters} '
           '(ratios relative to the first row)', format_table(results),
           args.out, kwargs, results)


if __name__ == '__main__':
    main()
