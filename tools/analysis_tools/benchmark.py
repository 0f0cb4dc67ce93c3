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
Peak memory is ``torch.cuda.max_memory_allocated`` on CUDA, and the peak
resident set size of the child process on CPU (model, data and the
interpreter included). FLOPs: one image of the same size, inference
forward (``mmseg_lrp.utils.flops.get_flops``: the unrolled-LRP model's
encoder and all K heatmaps). ``--pixel-labelled N`` gives only the first N
samples masks and the others image-level labels (all-255 masks), as in
semi-supervised batches, where the unrolled-LRP model decodes only the N.
"""
import argparse
import json
import os.path as osp
import resource
import time
from typing import List, Optional

import torch

from mmseg_lrp.utils import run_in_fresh_process


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
    from mmengine.runner import load_checkpoint

    import mmseg_lrp  # noqa: F401
    from mmseg.registry import MODELS
    from mmseg.structures import SegDataSample
    from mmengine.structures import LabelData, PixelData
    from mmseg_lrp.utils.flops import get_flops

    if args['threads']:
        torch.set_num_threads(args['threads'])
    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    device = torch.device(args['device'])
    model = revert_sync_batchnorm(MODELS.build(cfg.model)).to(device)
    if checkpoint:
        load_checkpoint(model, checkpoint, map_location='cpu')
    num_classes = model.decode_head.num_classes
    h, w = args['shape']
    g = torch.Generator().manual_seed(0)
    meta = dict(ori_shape=(h, w), img_shape=(h, w), pad_shape=(h, w))
    n_pixel = args.get('pixel_labelled')
    n_pixel = args['batch_size'] if n_pixel is None else n_pixel
    samples = []
    for i in range(args['batch_size']):
        if i < n_pixel:
            mask = torch.randint(0, num_classes, (1, h, w), generator=g)
            samples.append(SegDataSample(metainfo=meta,
                                         gt_sem_seg=PixelData(data=mask)))
            continue
        # image-level sample: all-ignore mask, multi-hot image labels
        labels = (torch.rand(num_classes, generator=g) < 0.3).long()
        labels[0] = 1
        samples.append(SegDataSample(
            metainfo=dict(meta, has_pixel_label=False),
            gt_sem_seg=PixelData(data=torch.full((1, h, w), 255)),
            gt_img_labels=LabelData(data=labels)))
    batch = dict(
        inputs=[
            torch.randint(0, 256, (3, h, w), generator=g, dtype=torch.uint8)
            for _ in range(args['batch_size'])
        ],
        data_samples=samples)
    sync = (torch.cuda.synchronize
            if device.type == 'cuda' else (lambda: None))
    params = sum(p.numel() for p in model.parameters())
    result = dict(config=config, params=params)

    def timed(step) -> float:
        for _ in range(args['warmup']):
            step()
        sync()
        if device.type == 'cuda':
            torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        for _ in range(args['iters']):
            step()
        sync()
        return (time.perf_counter() - start) / args['iters']

    if 'train' in args['phases']:
        optim = build_optim_wrapper(
            model, dict(type='OptimWrapper',
                        optimizer=dict(type='AdamW', lr=1e-4)))
        model.train()

        def train_step():
            data = model.data_preprocessor(batch, True)
            losses = model(**data, mode='loss')
            loss, _ = model.parse_losses(losses)
            optim.update_params(loss)

        result['train_step_s'] = timed(train_step)
        if device.type == 'cuda':
            result['train_peak_mib'] = torch.cuda.max_memory_allocated() / 2**20
    if 'infer' in args['phases']:
        model.eval()

        @torch.no_grad()
        def infer_step():
            data = model.data_preprocessor(batch, False)
            model(**data, mode='predict')

        result['infer_img_s'] = args['batch_size'] / timed(infer_step)
        if device.type == 'cuda':
            result['infer_peak_mib'] = torch.cuda.max_memory_allocated() / 2**20
    if device.type == 'cpu':
        # ru_maxrss is in KiB on Linux
        result['peak_rss_mib'] = resource.getrusage(
            resource.RUSAGE_SELF).ru_maxrss / 1024
    # after the memory readings: counting builds a second model
    result['flops'] = get_flops(cfg, (h, w), args['device'])['flops']
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
        results.append(run_in_fresh_process(
            _measure, config, checkpoints[i] if checkpoints else None,
            kwargs))
    return results


def format_table(results: List[dict]) -> str:
    """A markdown table with values and ratios to the first row."""
    cols = [('train_step_s', 'train step (s)', '{:.4f}'),
            ('infer_img_s', 'inference (img/s)', '{:.3g}'),
            ('train_peak_mib', 'train peak (MiB)', '{:.0f}'),
            ('infer_peak_mib', 'infer peak (MiB)', '{:.0f}'),
            ('peak_rss_mib', 'peak RSS (MiB)', '{:.0f}'),
            ('flops', 'GFLOPs (1 image)', '{:.3f}'),
            ('params', 'params (M)', None)]
    scale = dict(flops=1e-9)  # shown in other units than measured
    cols = [c for c in cols if c[0] in results[0]]
    head = ['config'] + [c[1] for c in cols]
    lines = ['| ' + ' | '.join(head) + ' |',
             '|' + '---|' * len(head)]
    base = results[0]
    for r in results:
        cells = [osp.basename(r['config'])]
        for key, _, fmt in cols:
            if key == 'params':
                cells.append(f'{r[key] / 1e6:.2f}')
                continue
            ratio = r[key] / base[key] if base[key] else float('nan')
            value = r[key] * scale.get(key, 1)
            cells.append(f'{fmt.format(value)} ({ratio:.2f}x)')
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def main():
    args = parse_args()
    kwargs = dict(shape=tuple(args.shape), batch_size=args.batch_size,
                  iters=args.iters, warmup=args.warmup, device=args.device,
                  threads=args.threads, phases=args.phases,
                  pixel_labelled=args.pixel_labelled)
    results = benchmark(args.configs, args.checkpoint, **kwargs)
    pixel = 'all' if args.pixel_labelled is None else args.pixel_labelled
    print(f'device={args.device} threads={args.threads or "default"} '
          f'batch={args.batch_size} (pixel-labelled: {pixel}) '
          f'shape={tuple(args.shape)} iters={args.iters} '
          '(ratios relative to the first row)')
    print(format_table(results))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(dict(settings=kwargs, results=results), f, indent=2)


if __name__ == '__main__':
    main()
