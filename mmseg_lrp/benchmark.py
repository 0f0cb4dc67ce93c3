"""What the benchmark tools share: one batch, one timer, one peak-memory
measure (CPU and GPU), the original code's training schedule, ratio tables.

Only torch is imported here, so the LRP-core GPU check (a machine without
the OpenMMLab stack) uses the same harness as ``benchmark.py`` and
``benchmark_lrp.py``.
"""
import os
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor
from torch.nn.modules.batchnorm import _BatchNorm

from .lrp import LayerRecord, LRPPropagator, Tape

# -- one batch ---------------------------------------------------------------


def random_batch(n: int, labelled: int, shape: Sequence[int],
                 num_classes: int, seed: int = 0,
                 mask_classes: Optional[int] = None) -> Dict[str, Tensor]:
    """A synthetic semi-supervised batch, the same for every tool.

    Args:
        n: Batch size.
        labelled: The first ``labelled`` samples get random masks; the
            others an all-ignore (255) mask and random multi-hot image
            labels (background always present).
        shape: ``(H, W)``.
        num_classes: K, background included.
        seed: Generator seed.
        mask_classes: Object classes per labelled mask (background plus
            this many random classes, e.g. 2 as in a typical VOC image);
            default: every class.

    Returns:
        ``images`` uint8 ``(n, 3, H, W)``, ``masks`` long ``(n, H, W)``,
        ``labels`` long ``(n, K)`` (the masks' classes for labelled samples).
    """
    g = torch.Generator().manual_seed(seed)
    h, w = shape
    images = torch.randint(0, 256, (n, 3, h, w), generator=g,
                           dtype=torch.uint8)
    masks = torch.full((n, h, w), 255, dtype=torch.long)
    labels = (torch.rand(n, num_classes, generator=g) < 0.3).long()
    labels[:, 0] = 1
    for i in range(labelled):
        classes = torch.arange(num_classes)
        if mask_classes is not None:
            pick = torch.randperm(num_classes - 1, generator=g)[:mask_classes]
            classes = torch.cat([classes[:1], pick + 1])
        masks[i] = classes[torch.randint(0, len(classes), (h, w),
                                         generator=g)]
        labels[i] = 0
        labels[i, masks[i].unique()] = 1
    return dict(images=images, masks=masks, labels=labels,
                labelled=torch.arange(labelled))


def normalized(images: Tensor, dtype=torch.float32) -> Tensor:
    """uint8 images as a zero-mean network input (what a data
    preprocessor would give)."""
    return (images.to(dtype) - 127.5) / 64.


def seg_data_samples(batch: Dict[str, Tensor], device='cpu') -> list:
    """The batch as mmseg ``SegDataSample``s: masks for the labelled
    samples, image-level labels and ``has_pixel_label=False`` for the
    others."""
    from mmengine.structures import LabelData, PixelData
    from mmseg.structures import SegDataSample
    h, w = batch['masks'].shape[1:]
    meta = dict(ori_shape=(h, w), img_shape=(h, w), pad_shape=(h, w))
    samples = []
    for i, mask in enumerate(batch['masks']):
        pixel = bool(i < len(batch['labelled']))
        sample = SegDataSample(
            metainfo=dict(meta) if pixel else dict(meta,
                                                   has_pixel_label=False),
            gt_sem_seg=PixelData(data=mask[None].to(device)))
        if not pixel:
            sample.gt_img_labels = LabelData(
                data=batch['labels'][i].to(device))
        samples.append(sample)
    return samples


# -- one timer, one peak-memory measure ---------------------------------------


def _rss_mib(field: str) -> float:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1]) / 1024
    return float('nan')


def _reset_peak_rss() -> None:
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')  # resets VmHWM to the current RSS (Linux >= 4.0)
    except OSError:
        pass


def time_steps(step: Callable[[], object], iters: int, warmup: int,
               device: str) -> Tuple[float, float]:
    """Seconds per call of ``step`` and the peak memory above the level
    before the timed calls, in MiB.

    On CUDA the peak is ``torch.cuda.max_memory_allocated``; on CPU the
    process's peak resident set (``VmHWM``, reset before the timed calls).
    On CPU it follows the live tensors only when glibc returns freed memory
    at once: measure memory in a process started with
    :data:`CPU_MEMORY_ENV` (see :func:`in_fresh_processes`).
    """
    cuda = str(device).startswith('cuda')
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    for _ in range(warmup):
        step()
    sync()
    if cuda:
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        _reset_peak_rss()
        base = _rss_mib('VmRSS')
    start = time.perf_counter()
    for _ in range(iters):
        step()
    sync()
    seconds = (time.perf_counter() - start) / max(iters, 1)
    if cuda:
        peak = (torch.cuda.max_memory_allocated() - base) / 2**20
    else:
        peak = _rss_mib('VmHWM') - base
    return seconds, peak


# glibc's mmap threshold fixed: every large tensor goes back to the OS when
# freed (by default the threshold grows after frees and freed memory stays
# in the RSS); slows allocation, hence a separate process for memory.
CPU_MEMORY_ENV = {'MALLOC_MMAP_THRESHOLD_': str(1 << 16)}


def in_fresh_processes(fn: Callable[..., dict], *args, device: str,
                       memory_args: Optional[tuple] = None) -> dict:
    """``fn(*args)`` in a fresh process; on CPU, the ``*_peak_mib`` entries
    come from a second process started with :data:`CPU_MEMORY_ENV` and
    ``memory_args`` (default: ``args``), times from the first."""
    from mmseg_lrp.utils.fresh_process import run_in_fresh_process
    result = run_in_fresh_process(fn, *args)
    if not str(device).startswith('cuda'):
        mem = run_in_fresh_process(fn, *(memory_args or args),
                                   env=CPU_MEMORY_ENV)
        result.update({k: v for k, v in mem.items()
                       if k.endswith('_peak_mib')})
    return result


# -- the original code's schedule --------------------------------------------


def _recomputed(rec: LayerRecord) -> LayerRecord:
    """``rec`` with its output recomputed from its stored input (conv and
    linear layers; BN from the batch statistics in train mode, else the
    running ones, running statistics untouched); other records as they
    are."""
    m = rec.module
    if isinstance(m, (nn.Conv2d, nn.Linear)):
        return LayerRecord(m, rec.input, m(rec.input), rec.name)
    if isinstance(m, _BatchNorm):
        batch = m.training or m.running_var is None
        y = F.batch_norm(rec.input, None if batch else m.running_mean,
                         None if batch else m.running_var, m.weight, m.bias,
                         batch, 0., m.eps)
        return LayerRecord(m, rec.input, y, rec.name)
    return rec


class OriginalDecoder(LRPPropagator):
    """The original code's decoder: the same rules, but every conv, linear
    and BN layer recomputes its forward output from its stored input when
    relevance passes it (one layer at a time), instead of reusing the
    stored output.

    Args:
        prop: The propagator whose stabilizer and rules are used.
    """

    def __init__(self, prop: LRPPropagator) -> None:
        self.epsilon = prop.epsilon
        self.stabilizer = prop.stabilizer
        self.rule_map = prop.rule_map

    def step(self, rec, R, ctx):
        if isinstance(rec, LayerRecord):
            rec = _recomputed(rec)
        return super().step(rec, R, ctx)


def class_heatmap(prop: LRPPropagator, tape: Tape, k: int) -> Tensor:
    """Heatmap ``(N, 1, H, W)`` of class ``k`` alone, whole batch, with the
    original decoder (:class:`OriginalDecoder`)."""
    logits = tape.output()
    return OriginalDecoder(prop).heatmaps(
        tape, torch.tensor([k], device=logits.device))


def original_backward(record: Callable[[], Tape], num_classes: int,
                      seg_loss: Callable[[Tensor, Tensor], Tensor],
                      cls_loss: Callable[[Tensor], Tensor],
                      prop: LRPPropagator) -> Tuple[Tensor, Tensor]:
    """One training step's backward in the original code's schedule
    (``--iterative_gradients``, ``models/multilabel.py``).

    1. One forward through encoder and classifier.
    2. A detached pass decodes every class over the whole batch, one class
       at a time, each decoder layer recomputing its forward; the gradient
       of the segmentation loss w.r.t. these heatmaps is taken.
    3. Per class: a decoder pass with the graph, and a backward of that
       class's heatmap against its gradient through decoder and encoder,
       keeping the encoder's graph (``retain_graph=True``); the
       classification loss's backward goes with the last class's.

    Args:
        record: Runs encoder + classifier, returns their tape.
        num_classes: K.
        seg_loss: ``(heatmaps (N, K, H, W), logits) -> loss``.
        cls_loss: ``logits -> loss``.
        prop: The propagator (rules, stabilizer).

    Returns:
        The two losses (detached). Gradients accumulate in ``.grad``.
    """
    tape = record()
    logits = tape.output().flatten(1)
    with torch.no_grad():
        H = torch.cat([class_heatmap(prop, tape, k)
                       for k in range(num_classes)], 1)
    H.requires_grad_(True)
    loss_seg = seg_loss(H, logits.detach())
    (grad_H, ) = torch.autograd.grad(loss_seg, H)
    loss_cls = cls_loss(logits)
    for k in range(num_classes):
        total = (class_heatmap(prop, tape, k) * grad_H[:, k:k + 1]).sum()
        last = k == num_classes - 1
        if last:  # the original's loss2.backward(), here in the same call
            total = total + loss_cls
        total.backward(retain_graph=not last)
    return loss_seg.detach(), loss_cls.detach()


def original_inference(tape: Tape, num_classes: int,
                       prop: LRPPropagator) -> Tensor:
    """All heatmaps by the original decoder's per-class loop."""
    return torch.cat([class_heatmap(prop, tape, k)
                      for k in range(num_classes)], 1)


# -- tables ------------------------------------------------------------------


def ratio_table(rows: List[dict], label: str,
                columns: Sequence[Tuple[str, str, str]],
                ref: int = 0, inverse: Sequence[str] = ()) -> str:
    """A markdown table of values with their ratios to row ``ref``.

    Args:
        rows: One dict per row.
        label: Key of the row name.
        columns: ``(key, header, format)``; missing values print as ``-``.
        ref: Index of the reference row.
        inverse: Keys whose ratio is ``ref / value`` (speed-ups), others
            ``value / ref``.
    """
    base = rows[ref]
    lines = ['| ' + ' | '.join([label] + [c[1] for c in columns]) + ' |',
             '|' + '---|' * (len(columns) + 1)]
    for r in rows:
        cells = [os.path.basename(str(r[label]))]
        for key, _, fmt in columns:
            v, b = r.get(key), base.get(key)
            if v is None:
                cells.append('-')
                continue
            if not b or not v:
                cells.append(fmt.format(v))
                continue
            ratio = b / v if key in inverse else v / b
            cells.append(f'{fmt.format(v)} ({ratio:.2f}x)')
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def report(header: str, table: str, out: Optional[str], settings: dict,
           results: List[dict]) -> None:
    """Print the settings line and the table; write both as JSON to
    ``out`` if given."""
    print(header)
    print(table)
    if out:
        import json
        with open(out, 'w') as f:
            json.dump(dict(settings=settings, results=results), f, indent=2)
