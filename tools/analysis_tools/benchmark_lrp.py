"""Training-step and inference cost of the unrolled-LRP decoder schedules.

Compares, on the same model and batch, each in its own child process (so
peak memory is its own), with ratios to the original schedule:

- ``one-pass``: all K classes in one decoder pass (classes folded into the
  batch), only the pixel-labelled samples decoded, one backward;
- ``memory-bounded``: the same, decoded in class chunks under activation
  checkpointing (exact, one backward);
- ``present:N``: present-class decoding (an option, not exact): in
  training, per pixel-labelled sample, background + its mask's classes +
  the N highest-scoring absent ones; at inference background + the N
  highest-scoring classes (use ``--mask-classes`` for VOC-like masks);
- ``original``: the schedule of the original code: a detached pass that
  decodes every class over the whole batch in a Python loop, each decoder
  layer recomputing its forward; then, per class, a forward through encoder
  and decoder and a backward through both;
- ``classifier``: one plain classifier training step (encoder, classifier,
  classification loss; nothing decoded): the unit C of the column
  "train step (C)", which makes runs on a noisy machine comparable.

The exact schedules compute the same gradients (tested in
tests/test_benchmark_lrp.py).
Times and speed-ups (in brackets: ref / value) and memory ratios (value /
ref) are to the original schedule.
Inference: time per image of the one-pass decoder vs the per-class loop of
the original decoder.

    python tools/analysis_tools/benchmark_lrp.py \\
        configs/_base_/models/unrolled-lrp_r50.py --batch-size 4 \\
        --labelled 2 --shape 128 128 --num-classes 21 --iters 3 \\
        --mask-classes 2 --schedules one-pass present:2 original classifier

``--profile SCHEDULE`` instead prints torch.profiler's operator table of
that schedule's training step (CPU time, self time, calls).
"""
import argparse
import os
from typing import Dict, List

import torch
from torch import Tensor

from mmseg_lrp.benchmark import (in_fresh_processes, normalized,
                                 original_backward, original_inference,
                                 random_batch, ratio_table, report,
                                 seg_data_samples, time_steps)


def build_model(config: str, num_classes: int, device: str):
    from mmengine.config import Config
    from mmengine.model import revert_sync_batchnorm
    from mmengine.registry import init_default_scope

    import mmseg_lrp.plugin  # noqa: F401 (registers)
    from mmseg.registry import MODELS
    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    cfg.model.decode_head.num_classes = num_classes
    init = cfg.model.backbone.get('init_cfg') or {}
    if init.get('type') == 'Pretrained':
        # cost does not depend on the weights (and none can be downloaded
        # on an offline machine): random initialisation
        cfg.model.backbone.pop('init_cfg')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return revert_sync_batchnorm(model).to(device)


def make_batch(n: int, labelled: int, shape, num_classes: int, device: str,
               dtype=torch.float32, mask_classes=None):
    """Network inputs and data samples of the shared synthetic batch
    (:func:`mmseg_lrp.benchmark.random_batch`)."""
    batch = random_batch(n, labelled, shape, num_classes,
                         mask_classes=mask_classes)
    return (normalized(batch['images'], dtype).to(device),
            seg_data_samples(batch, device))


def loss_one_pass(model, inputs, samples) -> Tensor:
    """The plugin's training loss (schedules one-pass / memory-bounded)."""
    loss, _ = model.parse_losses(model.loss(inputs, samples))
    return loss


def record(model, inputs):
    """Encoder + classifier forward; their tape."""
    feats = model.extract_feat(inputs)
    model.decode_head.classify(feats)
    return feats.tape


def backward_original(model, inputs, samples) -> Dict[str, float]:
    """One training step's backward in the original code's schedule
    (:func:`mmseg_lrp.benchmark.original_backward`) on the plugin's model
    and loss. Gradients accumulate in the model's ``.grad``."""
    head = model.decode_head
    seg_label = head._stack_batch_gt(samples).squeeze(1)
    cls_label, cls_valid = head.image_labels(samples)
    loss_seg, loss_cls = original_backward(
        lambda: record(model, inputs), head.num_classes,
        lambda H, logits: head.loss_decode(logits, cls_label, H, seg_label,
                                           cls_valid)['loss_seg'],
        lambda logits: head.loss_decode(logits, cls_label, None, None,
                                        cls_valid)['loss_cls'],
        head.propagator)
    return dict(loss_seg=loss_seg.item(), loss_cls=loss_cls.item())


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
    if schedule.startswith('present:'):
        head.train_absent_topk = head.test_class_topk = int(
            schedule.split(':')[1])
    inputs, samples = make_batch(args['batch_size'], args['labelled'],
                                 args['shape'], args['num_classes'], device,
                                 mask_classes=args.get('mask_classes'))
    optim = torch.optim.AdamW(model.parameters(), lr=1e-6)
    result = dict(schedule=schedule)

    def train_step():
        optim.zero_grad()
        model.train()
        if schedule == 'original':
            backward_original(model, inputs, samples)
        elif schedule == 'classifier':
            feats = model.extract_feat(inputs)
            cls_label, cls_valid = head.image_labels(samples)
            head.loss_decode(head.classify(feats), cls_label, None, None,
                             cls_valid)['loss_cls'].backward()
        else:
            loss_one_pass(model, inputs, samples).backward()
        optim.step()

    @torch.no_grad()
    def infer_step():
        model.eval()
        if schedule == 'original':
            original_inference(record(model, inputs), head.num_classes,
                               head.propagator)
        elif schedule == 'classifier':
            head.classify(model.extract_feat(inputs))
        else:
            model(inputs, mode='tensor')

    if args.get('profile'):
        from torch.profiler import ProfilerActivity, profile
        train_step()  # warm-up
        activities = [ProfilerActivity.CPU] + (
            [ProfilerActivity.CUDA] if device.startswith('cuda') else [])
        with profile(activities=activities) as prof:
            train_step()
        key = 'cuda_time_total' if device.startswith('cuda') else \
            'cpu_time_total'
        return dict(schedule=schedule, profile=prof.key_averages().table(
            sort_by=key, row_limit=args['profile_rows']))
    t, m = time_steps(train_step, args['iters'], args['warmup'], device)
    result.update(train_step_s=t, train_peak_mib=m)
    if not schedule.startswith('memory-bounded'):  # else as one-pass
        t, m = time_steps(infer_step, args['iters'], args['warmup'], device)
        result.update(infer_s_per_img=t / args['batch_size'],
                      infer_peak_mib=m)
    return result


def run(schedules: List[str], **args) -> List[dict]:
    """Measure each schedule in fresh processes (times and, on CPU, memory
    from separate ones, see :func:`mmseg_lrp.benchmark.in_fresh_processes`).
    """
    return [
        in_fresh_processes(measure, schedule, args, device=args['device'],
                           memory_args=(schedule, dict(args, iters=1)))
        for schedule in schedules
    ]


def format_table(results: List[dict], ref: str = 'original') -> str:
    names = [r['schedule'] for r in results]
    ref_index = names.index(ref) if ref in names else 0
    unit = []
    if 'classifier' in names:
        c = results[names.index('classifier')]['train_step_s']
        for r in results:
            r['train_step_C'] = r['train_step_s'] / c
        unit = [('train_step_C', 'train step (C)', '{:.1f}')]
    return ratio_table(
        results, 'schedule',
        [('train_step_s', 'train step (s)', '{:.3f}')] + unit + [
         ('train_peak_mib', 'step peak memory (MiB)', '{:.0f}'),
         ('infer_s_per_img', 'inference (s/img)', '{:.3f}')],
        ref=ref_index,
        inverse=('train_step_s', 'train_step_C', 'infer_s_per_img'))


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
                        'present:N, original')
    parser.add_argument('--mask-classes', type=int, default=None,
                        help='object classes per pixel-labelled mask '
                        '(default: all K)')
    parser.add_argument('--out', help='write results as JSON')
    parser.add_argument('--profile', metavar='SCHEDULE',
                        help="print torch.profiler's operator table of this "
                        "schedule's training step instead of timing")
    parser.add_argument('--profile-rows', type=int, default=25)
    return parser.parse_args()


def main():
    args = parse_args()
    settings = dict(config=args.config, batch_size=args.batch_size,
                    labelled=args.labelled, shape=tuple(args.shape),
                    num_classes=args.num_classes,
                    class_chunk=args.class_chunk, iters=args.iters,
                    warmup=args.warmup, device=args.device,
                    threads=args.threads, mask_classes=args.mask_classes)
    if args.profile:
        settings.update(profile=True, profile_rows=args.profile_rows)
        print(measure(args.profile, settings)['profile'])
        return
    results = run(args.schedules, **settings)
    report(f'{os.path.basename(args.config)}: device={args.device} '
           f'threads={args.threads or torch.get_num_threads()} '
           f'batch={args.batch_size} ({args.labelled} pixel-labelled) '
           f'shape={tuple(args.shape)} K={args.num_classes} '
           f'chunk={args.class_chunk} iters={args.iters} '
           f'mask_classes={args.mask_classes or "all"}',
           format_table(results), args.out, settings, results)


if __name__ == '__main__':
    main()
