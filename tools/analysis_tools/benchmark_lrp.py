"""Training-step and inference cost of the unrolled-LRP decoder schedules.

Compares, on the same model and batch, each in its own child process (so
peak memory is its own), with ratios to the original schedule:

- ``one-pass``: all K classes in one decoder pass (classes folded into the
  batch), only the pixel-labelled samples decoded, one backward;
- ``memory-bounded``: the same, decoded in class chunks under activation
  checkpointing (exact, one backward);
- ``original``: the schedule of the original code: a detached pass that
  decodes every class over the whole batch in a Python loop, each decoder
  layer recomputing its forward; then, per class, a forward through encoder
  and decoder and a backward through both.

All three compute the same gradients (tested in tests/test_benchmark_lrp.py).
Inference: time per image of the one-pass decoder vs the per-class loop of
the original decoder.

    python tools/analysis_tools/benchmark_lrp.py \\
        configs/_base_/models/unrolled-lrp_r50.py --batch-size 4 \\
        --labelled 2 --shape 128 128 --num-classes 21 --iters 3
"""
import argparse
import json
import os
import time
from typing import Dict, List

import torch
import torch.nn.functional as F
from torch import Tensor

from mmseg_lrp.utils import run_in_fresh_process


def _mmseg_lrp():
    import mmseg_lrp  # noqa: F401
    from mmseg_lrp.lrp import LRPPropagator
    from mmseg_lrp.lrp.tape import LayerRecord
    return LRPPropagator, LayerRecord


def make_recomputing_propagator(epsilon: float):
    """The original decoder: every layer recomputes its forward output from
    its input (conv/linear with the layer's weights, BN as its affine map
    from the batch or running statistics) instead of using stored outputs.
    """
    LRPPropagator, LayerRecord = _mmseg_lrp()

    class RecomputingPropagator(LRPPropagator):

        def step(self, rec, R, select, weights=None):
            if isinstance(rec, LayerRecord) and rec.kind in ('conv', 'linear',
                                                              'bn'):
                m = rec.module
                x = rec.input
                if rec.kind == 'conv':
                    z = F.conv2d(x, m.weight, m.bias, m.stride, m.padding,
                                 m.dilation, m.groups)
                elif rec.kind == 'linear':
                    z = F.linear(x, m.weight, m.bias)
                else:
                    use_batch = m.training or m.running_var is None
                    mean = x.mean((0, 2, 3)) if use_batch else m.running_mean
                    var = (x.var((0, 2, 3), unbiased=False)
                           if use_batch else m.running_var)
                    shape = (1, -1, 1, 1)
                    z = (x - mean.view(shape)) * torch.rsqrt(
                        var.view(shape) + m.eps)
                    if m.weight is not None:
                        z = z * m.weight.view(shape) + m.bias.view(shape)
                rec = LayerRecord(m, rec.kind, x, z, rec.name)
            return super().step(rec, R, select, weights)

    return RecomputingPropagator(epsilon)


def build_model(config: str, num_classes: int, device: str):
    from mmengine.config import Config
    from mmengine.model import revert_sync_batchnorm
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    _mmseg_lrp()
    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    cfg.model.decode_head.num_classes = num_classes
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return revert_sync_batchnorm(model).to(device)


def make_batch(n: int, labelled: int, shape, num_classes: int, device: str,
               dtype=torch.float32):
    """Preprocessed inputs and data samples; the first ``labelled`` samples
    carry random pixel labels, the others an all-ignore mask."""
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    g = torch.Generator().manual_seed(0)
    h, w = shape
    samples = []
    for i in range(n):
        seg = (torch.randint(0, num_classes, (1, h, w), generator=g)
               if i < labelled else torch.full((1, h, w), 255))
        samples.append(
            SegDataSample(
                metainfo=dict(img_shape=(h, w), ori_shape=(h, w),
                              pad_shape=(h, w)),
                gt_sem_seg=PixelData(data=seg.to(device))))
    inputs = torch.randn((n, 3, h, w), generator=g, dtype=dtype).to(device)
    return inputs, samples


def loss_one_pass(model, inputs, samples) -> Tensor:
    """The plugin's training loss (schedules one-pass / memory-bounded)."""
    loss, _ = model.parse_losses(model.loss(inputs, samples))
    return loss


def backward_original(model, inputs, samples,
                      propagator=None) -> Dict[str, float]:
    """One training step's backward in the original code's schedule.

    Returns the loss terms. Gradients accumulate in the model's ``.grad``.
    """
    head = model.decode_head
    prop = propagator or make_recomputing_propagator(
        head.propagator.epsilon)
    seg_label = head._stack_batch_gt(samples).squeeze(1)
    cls_label, cls_valid = head.image_labels(samples)
    K = head.num_classes

    def decode_class(feats, logits, pooled, k):
        # the whole batch, one class, layers recomputing their forward
        return _single_class(prop, head, feats, logits, pooled, k)

    # 1. detached pass: all classes, whole batch, Python loop
    with torch.no_grad():
        feats = model.extract_feat(inputs)
        logits, pooled = head.classify(feats)
        H = torch.cat([decode_class(feats, logits, pooled, k)
                       for k in range(K)], 1)
    H.requires_grad_(True)
    losses = head.loss_decode(logits, cls_label, H, seg_label, cls_valid)
    (grad_H, ) = torch.autograd.grad(losses['loss_seg'], H)
    # 2. per class: forward through encoder and decoder, backward through both
    for k in range(K):
        feats = model.extract_feat(inputs)
        logits, pooled = head.classify(feats)
        H_k = decode_class(feats, logits, pooled, k)
        total = (H_k * grad_H[:, k:k + 1]).sum()
        if k == 0:
            total = total + head.loss_decode(logits, cls_label, None, None,
                                             cls_valid)['loss_cls']
        total.backward()
    return {k: v.item() for k, v in losses.items()}


def _single_class(prop, head, feats, logits, pooled, k: int) -> Tensor:
    """Heatmap ``(N, 1, H, W)`` of class ``k`` for the whole batch."""
    R = prop.start(feats[-1], pooled, logits, head.pool,
                   head.conv_seg.weight.flatten(1),
                   torch.tensor([k], device=logits.device), lambda t: t)
    R = prop.backward(feats.tape, R, lambda t: t)
    return R.sum(2).transpose(0, 1)


def _rss_mib(field: str) -> float:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1]) / 1024
    return float('nan')


def _reset_peak_rss() -> bool:
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')  # resets VmHWM to the current RSS (Linux >= 4.0)
        return True
    except OSError:
        return False


def measure(schedule: str, args: dict) -> dict:
    """Time and peak memory of one schedule (run in a child process)."""
    if args['threads']:
        torch.set_num_threads(args['threads'])
    device = args['device']
    model = build_model(args['config'], args['num_classes'], device)
    head = model.decode_head
    if schedule.startswith('memory-bounded'):
        # 'memory-bounded' uses --class-chunk, 'memory-bounded:N' chunk N
        _, _, chunk = schedule.partition(':')
        head.class_chunk = int(chunk) if chunk else args['class_chunk']
        head.use_checkpoint = True
    inputs, samples = make_batch(args['batch_size'], args['labelled'],
                                 args['shape'], args['num_classes'], device)
    optim = torch.optim.AdamW(model.parameters(), lr=1e-6)
    sync = torch.cuda.synchronize if device.startswith('cuda') else (
        lambda: None)
    result = dict(schedule=schedule)

    def train_step():
        optim.zero_grad()
        model.train()
        if schedule == 'original':
            backward_original(model, inputs, samples)
        else:
            loss_one_pass(model, inputs, samples).backward()
        optim.step()

    def infer_step():
        model.eval()
        with torch.no_grad():
            if schedule == 'original':
                feats = model.extract_feat(inputs)
                logits, pooled = head.classify(feats)
                prop = make_recomputing_propagator(head.propagator.epsilon)
                torch.cat([_single_class(prop, head, feats, logits, pooled,
                                         k) for k in range(head.num_classes)],
                          1)
            else:
                model(inputs, mode='tensor')

    for phase, step in (('train', train_step), ('infer', infer_step)):
        if phase == 'infer' and schedule.startswith('memory-bounded'):
            continue  # same inference as one-pass
        for _ in range(args['warmup']):
            step()
        sync()
        if device.startswith('cuda'):
            torch.cuda.reset_peak_memory_stats()
            base = torch.cuda.memory_allocated()
        else:
            _reset_peak_rss()
            base = _rss_mib('VmRSS')
        start = time.perf_counter()
        for _ in range(args['iters']):
            step()
        sync()
        elapsed = (time.perf_counter() - start) / args['iters']
        if device.startswith('cuda'):
            peak = (torch.cuda.max_memory_allocated() - base) / 2**20
        else:
            peak = _rss_mib('VmHWM') - base
        if phase == 'train':
            result.update(train_step_s=elapsed, train_peak_mib=peak)
        else:
            result.update(infer_s_per_img=elapsed / args['batch_size'],
                          infer_peak_mib=peak)
    return result


def run(schedules: List[str], **args) -> List[dict]:
    """Measure each schedule in fresh processes.

    Times come from a process with the default allocator. On CPU the peak
    memory comes from a second process in which glibc's mmap threshold is
    fixed (``MALLOC_MMAP_THRESHOLD_``), so that every large tensor goes back
    to the OS when freed and the peak RSS follows the live tensors (by
    default the threshold grows after frees and freed memory stays in the
    RSS); that setting slows allocation, hence the separate timing run.
    """
    results = []
    for schedule in schedules:
        res = run_in_fresh_process(measure, schedule, args)
        if not args['device'].startswith('cuda'):
            mem = run_in_fresh_process(
                measure, schedule, dict(args, iters=1),
                env={'MALLOC_MMAP_THRESHOLD_': str(1 << 16)})
            for key in ('train_peak_mib', 'infer_peak_mib'):
                if key in mem:
                    res[key] = mem[key]
        results.append(res)
    return results


def format_table(results: List[dict], ref: str = 'original') -> str:
    base = next(r for r in results if r['schedule'] == ref)
    lines = [
        '| schedule | train step (s) | speed-up | step peak memory (MiB) | '
        'memory vs original | inference (s/img) | inference speed-up |',
        '|---|---|---|---|---|---|---|'
    ]
    for r in results:
        inf = r.get('infer_s_per_img')
        lines.append(
            f'| {r["schedule"]} | {r["train_step_s"]:.3f} | '
            f'{base["train_step_s"] / r["train_step_s"]:.2f}x | '
            f'{r["train_peak_mib"]:.0f} | '
            f'{r["train_peak_mib"] / base["train_peak_mib"]:.2f}x | ' +
            (f'{inf:.3f} | {base["infer_s_per_img"] / inf:.2f}x |'
             if inf else '(as one-pass) | |'))
    return '\n'.join(lines)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='an unrolled-LRP model config')
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--labelled', type=int, default=2,
                        help='pixel-labelled samples in the batch')
    parser.add_argument('--shape', type=int, nargs=2, default=(128, 128))
    parser.add_argument('--num-classes', type=int, default=21)
    parser.add_argument('--class-chunk', type=int, default=7,
                        help='classes per chunk in the memory-bounded mode')
    parser.add_argument('--iters', type=int, default=3)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--device', default='cuda'
                        if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument('--schedules', nargs='+',
                        default=['one-pass', 'memory-bounded', 'original'],
                        help="among one-pass, memory-bounded[:CHUNK], "
                        'original')
    parser.add_argument('--out', help='write results as JSON')
    return parser.parse_args()


def main():
    args = parse_args()
    settings = dict(config=args.config, batch_size=args.batch_size,
                    labelled=args.labelled, shape=tuple(args.shape),
                    num_classes=args.num_classes,
                    class_chunk=args.class_chunk, iters=args.iters,
                    warmup=args.warmup, device=args.device,
                    threads=args.threads)
    results = run(args.schedules, **settings)
    print(f'{os.path.basename(args.config)}: device={args.device} '
          f'threads={args.threads or torch.get_num_threads()} '
          f'batch={args.batch_size} ({args.labelled} pixel-labelled) '
          f'shape={tuple(args.shape)} K={args.num_classes} '
          f'chunk={args.class_chunk} iters={args.iters}')
    print(format_table(results))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(dict(settings=settings, results=results), f, indent=2)


if __name__ == '__main__':
    main()
