"""The toy side-by-side experiment: unrolled LRP (semi-supervised) against
the supervised UNet and DeepLabV3 and the multi-task UNet, at several
pixel-label budgets and seeds, on CPU.

    python tools/analysis_tools/toy_experiment.py \\
        [--budgets 10 30 120] [--seeds 0 1 2] [--jobs 2] \\
        [--readme README.md] [--plot docs/figures/toy_experiment.png]

The paper's protocol, scaled down to CPU minutes:

1. Data: the embedded toy VOC (``make toy-data``: the digits world, 120
   pixel-labelled train images, 80 val images, ``--image-pool`` image-level
   images; generated here if missing), its label cache and one
   paper-protocol split file per (budget, seed) (``make_voc_splits.py``; a
   budget of all 120 is the whole train list).
2. Stage 1: the ResNet-18-CIFAR-c16 classifier is trained for
   classification only on the image-level pool; its best checkpoint (val
   cls/mAP) initialises every model: the backbone of all four, the
   classifier of the LRP model (``load_from``) and of the multi-task UNet.
3. Every (model, budget, seed) trains with the plugin's ``tools/train.py``
   and its config of ``configs/toy_experiment/`` (same encoder, crop, batch
   8, validation every 50-100 iterations for the curves, best val mIoU
   kept); each model's iteration count is its config's (``--iters``
   overrides all): unrolled LRP and the multi-task UNet on 4 pixel-labelled
   + 4 image-level samples per batch, UNet and DeepLabV3 on 8 pixel-labelled
   samples.
4. Report: the best val mIoU of every run (standard protocol: full
   resolution, 255 ignored), mean ± sample std over seeds; the paired
   difference LRP - best baseline per budget (per seed, with its sign); the
   classifiers' val mAP; the world checks (stage-1 mAP and time, supervised
   UNet with all and with the fewest pixel labels); a plot of mIoU against
   pixel labels and one of the validation curves. Written to
   ``{work_dir}/results.{json,md}`` and, with ``--readme``, into the README
   between ``<!-- toy-experiment:begin -->`` and ``<!-- toy-experiment:end
   -->``.

Finished runs (final validation logged) are kept and not rerun; delete the
work dir (or pass ``--force``) to start over.
"""
import argparse
import glob
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import time
from typing import Dict, List, Optional, Sequence

HERE = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(osp.dirname(HERE))
sys.path.insert(0, ROOT)  # noqa: E402 (run from a checkout)

from mmseg_lrp.utils.results import (model_key, read_run,  # noqa: E402
                                     summarize, val_records)

CONFIG_DIR = osp.join(ROOT, 'configs', 'toy_experiment')
STAGE1_CONFIG = osp.join(
    CONFIG_DIR,
    'unrolled-lrp_r18-cifar-c16_1xb16-3000iter_toyvoc-cls-64x64.py')
# model key -> its config in configs/toy_experiment
MODELS: Dict[str, str] = {
    'unrolled-lrp':
    'unrolled-lrp_r18-cifar-c16_1xb8-300iter_toyvoc-semi-64x64.py',
    'unrolled-lrp-compat':
    'unrolled-lrp-compat_r18-cifar-c16_1xb8-300iter_toyvoc-semi-64x64.py',
    'unet': 'unet_r18-cifar-c16_1xb8-800iter_toyvoc-pixel-64x64.py',
    'deeplabv3':
    'deeplabv3_r18-cifar-c16-d4_1xb8-800iter_toyvoc-pixel-64x64.py',
    'unet-multitask':
    'unet-multitask_r18-cifar-c16_1xb8-1600iter_toyvoc-semi-64x64.py',
}
BASELINES = [m for m in MODELS if not m.startswith('unrolled-lrp')]
BASELINES.insert(0, 'unrolled-lrp')
# The world checks of the toy data (printed with the results).
TARGET_STAGE1_MAP, TARGET_STAGE1_MIN = 90.0, 10.0
TARGET_UNET_ALL, TARGET_UNET_GAP = 60.0, 15.0
LABELS = {
    'unrolled-lrp': 'unrolled LRP (semi-sup.)',
    'unrolled-lrp-compat': 'unrolled LRP, paper-compat (semi-sup.)',
    'unet': 'UNet (sup.)',
    'deeplabv3': 'DeepLabV3 (sup.)',
    'unet-multitask': 'multi-task UNet (semi-sup.)',
}
BEGIN, END = '<!-- toy-experiment:begin -->', '<!-- toy-experiment:end -->'


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--data-root', default='data/toy_voc/VOC2012',
                   help='toy VOC to use (default: the one of make toy-data); '
                   'generated there if missing')
    p.add_argument('--image-pool', type=int, default=8000,
                   help='image-level-only images when generating the data')
    p.add_argument('--work-dir', default='work_dirs/toy_experiment')
    p.add_argument('--models', nargs='+', default=list(BASELINES),
                   choices=list(MODELS),
                   help='default: the unrolled LRP and the baselines; '
                   'unrolled-lrp-compat is the LRP model with the '
                   'paper-compat switches (paired against unrolled-lrp)')
    p.add_argument('--budgets', nargs='+', type=int, default=[10, 30, 120],
                   help='pixel-labelled images per run')
    p.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2],
                   help='seed of the split file and of the training')
    p.add_argument('--iters', type=int, default=None,
                   help="iterations of every model run (default: each "
                   "config's own)")
    p.add_argument('--stage1-iters', type=int, default=None,
                   help="stage-1 classifier iterations (default: its "
                   "config's; 0: no stage 1, every model starts from random "
                   'weights)')
    p.add_argument('--jobs', type=int, default=2,
                   help='runs in parallel')
    p.add_argument('--threads', type=int, default=1,
                   help='torch threads per run')
    p.add_argument('--plot', default=None, help='write the plot here')
    p.add_argument('--readme', default=None,
                   help='write table and plot into this README')
    p.add_argument('--force', action='store_true',
                   help='rerun finished runs')
    return p.parse_args(argv)


# -- data ---------------------------------------------------------------------
def prepare_data(root: str, image_pool: int, budgets: Sequence[int],
                 seeds: Sequence[int]) -> int:
    """Generate the toy VOC if missing, then the label cache and the split
    files (each written once). Returns the number of pixel-labelled train
    images."""
    if not osp.isdir(osp.join(root, 'JPEGImages')):
        from mmseg_lrp.datasets import make_toy_voc
        print(f'generating the toy VOC in {root} ({image_pool} image-level '
              'images) ...', flush=True)
        make_toy_voc(root, num_images=120 + 80 + image_pool,
                     num_seg_train=120, num_seg_val=80, seed=0)
    if not osp.isfile(osp.join(root, 'ImageLabels.json')):
        run_tool('dataset_converters/voc_image_labels.py', root)
    with open(osp.join(root, 'ImageSets', 'Segmentation', 'train.txt')) as f:
        num_train = sum(1 for line in f if line.strip())
    for n in budgets:
        if not 0 < n <= num_train:
            raise ValueError(f'budget {n}: {root} has {num_train} '
                             'pixel-labelled train images')
        missing = [s for s in seeds if not osp.isfile(split_path(root, n, s))]
        for s in missing:
            run_tool('dataset_converters/make_voc_splits.py', root, '--num',
                     n, '--seed', s)
    return num_train


def split_file(n: int, seed: int) -> str:
    return f'ImageSets/SemiSeg/paper_{n}_seed{seed}.txt'


def split_path(root: str, n: int, seed: int) -> str:
    return osp.join(root, split_file(n, seed))


def run_tool(script: str, *args) -> None:
    cmd = [sys.executable, osp.join(ROOT, 'tools', script)] + [
        str(a) for a in args
    ]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


# -- runs ---------------------------------------------------------------------
class Run:
    """One tools/train.py call.

    Args:
        name: Log and report name.
        config: Config path.
        work_dir: Its work dir.
        options: ``--cfg-options``.
        iters: Its last iteration (the final validation's step).
        metric: The validation metric it is judged by.
    """

    def __init__(self, name: str, config: str, work_dir: str,
                 options: List[str], iters: int,
                 metric: str = 'mIoU') -> None:
        self.name, self.config, self.work_dir = name, config, work_dir
        self.options, self.iters, self.metric = options, iters, metric

    def finished(self) -> bool:
        """Whether the final validation (iteration ``iters``) is logged."""
        return any(rec.get('step') == self.iters
                   for rec in val_records(self.work_dir, self.metric))

    def command(self) -> List[str]:
        return [sys.executable, osp.join(ROOT, 'tools', 'train.py'),
                self.config, '--work-dir', self.work_dir,
                '--cfg-options'] + self.options

    @property
    def wall_file(self) -> str:
        return osp.join(self.work_dir, 'wall_seconds.txt')

    def wall_seconds(self) -> Optional[float]:
        """Wall time of the call that finished the run (None if unknown)."""
        if not osp.isfile(self.wall_file):
            return None
        with open(self.wall_file) as f:
            return float(f.read())


def model_config(model: str) -> str:
    return osp.join(CONFIG_DIR, MODELS[model])


def config_iters(config: str) -> int:
    from mmengine.config import Config
    return int(Config.fromfile(config).train_cfg.max_iters)


def data_options(root: str, pools: int) -> List[str]:
    opts = [f'train_dataloader.dataset.datasets.{i}.data_root={root}'
            for i in range(pools)]
    return opts + [f'val_dataloader.dataset.data_root={root}']


def loader_options() -> List[str]:
    # one loader worker per run: the runs themselves share the cores
    return ['train_dataloader.num_workers=1',
            'val_dataloader.num_workers=0',
            'val_dataloader.persistent_workers=False']


def schedule_options(config: str, iters: Optional[int],
                     interval: int) -> List[str]:
    """``--cfg-options`` that shorten or lengthen ``config`` to ``iters``
    iterations; a scheduler that ends with the run (poly decay) is moved
    with it, so the rate still reaches its end value at the last step."""
    if iters is None:
        return []
    from mmengine.config import Config
    cfg = Config.fromfile(config)
    opts = [f'train_cfg.max_iters={iters}',
            f'train_cfg.val_interval={interval}',
            f'default_hooks.checkpoint.interval={iters}']
    for i, sched in enumerate(cfg.get('param_scheduler') or []):
        if sched.get('end') == cfg.train_cfg.max_iters:
            opts.append(f'param_scheduler.{i}.end={iters}')
    return opts


def stage1_run(args) -> Run:
    iters = args.stage1_iters
    opts = data_options(args.data_root, 1) + loader_options() + [
        'randomness.seed=0'
    ] + schedule_options(STAGE1_CONFIG, iters, max((iters or 0) // 3, 1))
    return Run('stage1', STAGE1_CONFIG, osp.join(args.work_dir, 'stage1'),
               opts, iters or config_iters(STAGE1_CONFIG), metric='cls/mAP')


def model_run(args, model: str, n: int, seed: int,
              stage1_ckpt: Optional[str]) -> Run:
    config = model_config(model)
    opts = data_options(args.data_root, 2) + loader_options() + [
        f'train_dataloader.dataset.pixel_split={split_file(n, seed)}',
        f'randomness.seed={seed}',
    ] + schedule_options(config, args.iters,
                         max((args.iters or 0) // 2, 1))
    if stage1_ckpt and model.startswith('unrolled-lrp'):
        opts.append(f'load_from={stage1_ckpt}')  # encoder and classifier
    elif stage1_ckpt:
        opts += ['model.backbone.init_cfg.type=Pretrained',
                 f'model.backbone.init_cfg.checkpoint={stage1_ckpt}',
                 'model.backbone.init_cfg.prefix=backbone.']
    if stage1_ckpt and model == 'unet-multitask':
        opts += ['model.auxiliary_head.init_cfg.type=Pretrained',
                 f'model.auxiliary_head.init_cfg.checkpoint={stage1_ckpt}',
                 'model.auxiliary_head.init_cfg.prefix=decode_head.']
    return Run(f'{model}_n{n}_seed{seed}', config,
               osp.join(args.work_dir, model, f'n{n}_seed{seed}'), opts,
               args.iters or config_iters(config))


def execute(runs: Sequence[Run], jobs: int, threads: int,
            log_dir: str, force: bool = False) -> int:
    """Run ``runs`` with at most ``jobs`` at a time; stop at the first
    failure, naming its log. Returns how many were finished before (kept,
    not rerun)."""
    os.makedirs(log_dir, exist_ok=True)
    env = dict(os.environ, OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads), PYTHONUNBUFFERED='1')
    todo = [r for r in runs if force or not r.finished()]
    for r in runs:
        if r not in todo:
            print(f'  {r.name}: finished before, kept', flush=True)
    kept = len(runs) - len(todo)
    running = []
    while todo or running:
        while todo and len(running) < jobs:
            r = todo.pop(0)
            # an unfinished run starts over (its logs would mix otherwise)
            shutil.rmtree(r.work_dir, ignore_errors=True)
            log = open(osp.join(log_dir, f'{r.name}.log'), 'w')
            proc = subprocess.Popen(r.command(), stdout=log,
                                    stderr=subprocess.STDOUT, env=env)
            running.append((r, proc, log, time.time()))
        time.sleep(0.5)
        for item in list(running):
            r, proc, log, start = item
            if proc.poll() is None:
                continue
            log.close()
            running.remove(item)
            if proc.returncode:
                for _, other, _, _ in running:
                    other.kill()
                raise RuntimeError(f'{r.name} failed (exit {proc.returncode})'
                                   f', see {log.name}')
            with open(r.wall_file, 'w') as f:
                f.write(f'{time.time() - start:.1f}')
            best = read_run(r.work_dir, r.metric)
            print(f'  {r.name}: best val {r.metric} {best["best"]:.2f} '
                  f'(iteration {best["step"]}), {time.time() - start:.0f} s',
                  flush=True)
    return kept


def stage1_checkpoint(work_dir: str) -> str:
    found = glob.glob(osp.join(work_dir, 'best_cls_mAP_iter_*.pth'))
    if not found:
        raise FileNotFoundError(f'{work_dir}: no best_cls_mAP_iter_*.pth '
                                '(stage 1 did not finish)')
    return max(found, key=osp.getmtime)


# -- report -------------------------------------------------------------------
def reference_levels(root: str) -> Dict[str, float]:
    """What trivial predictors score on the val set, to read the table
    against: ``background_miou``, the mIoU of predicting background
    everywhere (background IoU = its share of the labelled pixels, every
    other class present 0), and ``random_map``, the expected mAP of a
    classifier ranking at random (the mean share of val images showing a
    class)."""
    import numpy as np
    from PIL import Image

    from mmseg_lrp.datasets.voc_labels import read_id_list, read_label_cache
    ids = read_id_list(osp.join(root, 'ImageSets', 'Segmentation',
                                'val.txt'))
    bg = labelled = 0
    present = set()
    for i in ids:
        mask = np.array(Image.open(osp.join(root, 'SegmentationClass',
                                            f'{i}.png')))
        valid = mask[mask != 255]
        bg += int((valid == 0).sum())
        labelled += valid.size
        present |= set(np.unique(valid).tolist())
    labels = read_label_cache(osp.join(root, 'ImageLabels.json'), ids)
    classes = sorted({c for i in ids for c in labels[i]})
    share = [sum(c in labels[i] for i in ids) / len(ids) for c in classes]
    return dict(background_miou=100 * bg / labelled / len(present),
                random_map=100 * sum(share) / len(share))


def pivot_table(rows: Sequence[dict], models: Sequence[str],
                budgets: Sequence[int], key: Optional[str] = None) -> str:
    """Models as rows, budgets as columns: mean ± std of the best val mIoU
    or, with ``key``, the mean of that metric at the best-mIoU validation
    (models without it are left out)."""
    cell = {(r['model'], r['pixel_labels']): r for r in rows}
    head = ['model'] + [f'{n} pixel labels' for n in budgets]
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for m in models:
        rs = [cell.get((model_key(MODELS[m]), n)) for n in budgets]
        if key is not None and all(r is None or r.get(key) is None
                                   for r in rs):
            continue
        cells = [LABELS[m]]
        for r in rs:
            if r is None or (key is not None and r.get(key) is None):
                cells.append('–')
            elif key is None:
                cells.append(f"{r['mean']:.2f} ± {r['std']:.2f}")
            else:
                cells.append(f'{r[key]:.2f}')
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def plot(rows: Sequence[dict], models: Sequence[str], path: str,
         title: str, background_miou: Optional[float] = None) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    for m in models:
        key = model_key(MODELS[m])
        rs = sorted((r for r in rows if r['model'] == key),
                    key=lambda r: r['pixel_labels'])
        ax.errorbar([r['pixel_labels'] for r in rs],
                    [r['mean'] for r in rs], yerr=[r['std'] for r in rs],
                    marker='o', capsize=3, label=LABELS[m])
    if background_miou is not None:
        ax.axhline(background_miou, color='grey', linestyle='--',
                   linewidth=1, label='background everywhere')
    ax.set_xscale('log')
    ns = sorted({r['pixel_labels'] for r in rows})
    ax.set_xticks(ns)
    ax.set_xticklabels([str(n) for n in ns])
    ax.set_xlabel('pixel-labelled training images')
    ax.set_ylabel('best val mIoU (%)')
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def curves(runs: Sequence[Run], models: Sequence[str],
           budgets: Sequence[int]) -> Dict[tuple, List[tuple]]:
    """Validation curves: ``(model, budget) -> [(step, mean mIoU over
    seeds, number of seeds)]``."""
    out = {}
    for m in models:
        for n in budgets:
            per_step: Dict[int, List[float]] = {}
            for r in runs:
                if r.name.startswith(f'{m}_n{n}_seed'):
                    for rec in val_records(r.work_dir):
                        per_step.setdefault(rec['step'], []).append(
                            rec['mIoU'])
            out[(m, n)] = [(k, sum(v) / len(v), len(v))
                           for k, v in sorted(per_step.items())]
    return out


def late_gains(curve: Dict[tuple, List[tuple]], models: Sequence[str],
               budgets: Sequence[int], tail: float = 0.25) -> str:
    """How flat each curve ended: the best seed-mean val mIoU of the run
    minus the best before its last ``tail`` of iterations (0 or below: no
    gain at the end; a large value: the run was cut while still rising).
    A markdown table, models as rows and budgets as columns."""
    head = ['model'] + [f'{n} pixel labels' for n in budgets]
    lines = ['| ' + ' | '.join(head) + ' |',
             '|' + '---|' * len(head)]
    for m in models:
        cells = []
        for n in budgets:
            pts = curve.get((m, n), [])
            if not pts:
                cells.append('-')
                continue
            last = pts[-1][0]
            early = [v for k, v, _ in pts if k <= (1 - tail) * last]
            cells.append('-' if not early else
                         f'{max(v for _, v, _ in pts) - max(early):+.2f}')
        lines.append(f'| {LABELS[m]} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def plot_curves(curve: Dict[tuple, List[tuple]], models: Sequence[str],
                budgets: Sequence[int], path: str,
                background_miou: Optional[float] = None) -> None:
    """One panel per budget: val mIoU (mean over seeds) against
    iteration, one line per model."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(budgets),
                             figsize=(3.3 * len(budgets), 3.2), dpi=100,
                             sharey=True, squeeze=False)
    for ax, n in zip(axes[0], budgets):
        for m in models:
            pts = curve.get((m, n), [])
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts],
                        marker='.', label=LABELS[m])
        if background_miou is not None:
            ax.axhline(background_miou, color='grey', linestyle='--',
                       linewidth=1)
        ax.set_title(f'{n} pixel labels', fontsize=9)
        ax.set_xlabel('iteration')
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel('val mIoU (%), mean over seeds')
    axes[0][-1].legend(fontsize=7)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def paired_differences(results: Sequence[dict], models: Sequence[str],
                       budgets: Sequence[int],
                       against: Optional[str] = None) -> List[dict]:
    """Per budget: the best baseline (highest mean best-mIoU over seeds;
    or the model ``against``) and the per-seed differences ``LRP - that
    model`` (runs paired by seed: same split file, same stage 1)."""
    import statistics
    best = {(model_key(MODELS[m]), n): {} for m in models for n in budgets}
    for r in results:
        best.setdefault((r['model'], r['pixel_labels']), {})[r['seed']] = \
            r['best']
    lrp = model_key(MODELS['unrolled-lrp'])
    rows = []
    for n in budgets:
        base = [m for m in models if m in BASELINES[1:] + [against]
                and (against is None or m == against)
                and best[(model_key(MODELS[m]), n)]]
        if not best[(lrp, n)] or not base:
            continue
        top = max(base, key=lambda m: statistics.mean(
            best[(model_key(MODELS[m]), n)].values()))
        ours, theirs = best[(lrp, n)], best[(model_key(MODELS[top]), n)]
        diffs = [ours[s] - theirs[s] for s in sorted(ours) if s in theirs]
        rows.append(dict(
            budget=n, baseline=top, diffs=diffs,
            mean=statistics.mean(diffs),
            std=statistics.stdev(diffs) if len(diffs) > 1 else 0.0,
            positive=sum(d > 0 for d in diffs)))
    return rows


def paired_table(rows: Sequence[dict], other: str = 'best baseline') -> str:
    lines = [f'| pixel labels | {other} | LRP − {other} per seed | '
             'mean ± std | LRP ahead |', '|---|---|---|---|---|']
    for r in rows:
        lines.append(
            f"| {r['budget']} | {LABELS[r['baseline']]} | "
            + ', '.join(f'{d:+.2f}' for d in r['diffs'])
            + f" | {r['mean']:+.2f} ± {r['std']:.2f} | "
            f"{r['positive']}/{len(r['diffs'])} seeds |")
    return '\n'.join(lines)


def world_checks(rows: Sequence[dict], budgets: Sequence[int],
                 num_train: int, stage1: Optional[dict]) -> List[str]:
    """The toy world's targets, measured: the stage-1 classifier's val mAP
    and time, the supervised UNet with all pixel labels, and its gap to the
    UNet with the fewest."""
    def mark(ok):
        return 'met' if ok else 'NOT met'

    lines = []
    if stage1 is not None:
        ok = (stage1['map'] >= TARGET_STAGE1_MAP
              and stage1['minutes'] is not None
              and stage1['minutes'] <= TARGET_STAGE1_MIN)
        took = ('?' if stage1['minutes'] is None else
                f"{stage1['minutes']:.1f}")
        lines.append(
            f"stage-1 classifier (image labels only): val mAP "
            f"{stage1['map']:.1f} in {took} min (target ≥ "
            f'{TARGET_STAGE1_MAP:.0f} in ≤ {TARGET_STAGE1_MIN:.0f} min: '
            f'{mark(ok)})')
    unet = {r['pixel_labels']: r for r in rows
            if r['model'] == model_key(MODELS['unet'])}
    if num_train in unet:
        full = unet[num_train]['mean']
        lines.append(f'supervised UNet, all {num_train} pixel labels: '
                     f'{full:.2f} mIoU (target ≥ {TARGET_UNET_ALL:.0f}: '
                     f'{mark(full >= TARGET_UNET_ALL)})')
        fewest = min(unet)
        if fewest != num_train:
            gap = full - unet[fewest]['mean']
            lines.append(
                f'supervised UNet, {fewest} pixel labels: '
                f"{unet[fewest]['mean']:.2f} mIoU, {gap:.2f} below all "
                f'(target ≥ {TARGET_UNET_GAP:.0f} below: '
                f'{mark(gap >= TARGET_UNET_GAP)})')
    return lines


def write_readme(readme: str, block: str) -> None:
    with open(readme) as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        raise ValueError(f'{readme}: no {BEGIN} ... {END} block to replace')
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    with open(readme, 'w') as f:
        f.write(head + BEGIN + '\n' + block.strip() + '\n' + END + tail)


def main(argv=None) -> str:
    args = parse_args(argv)
    start = time.time()
    args.data_root = osp.abspath(args.data_root)
    args.work_dir = osp.abspath(args.work_dir)
    logs = osp.join(args.work_dir, 'logs')
    num_train = prepare_data(args.data_root, args.image_pool, args.budgets,
                             args.seeds)
    ckpt = stage1 = None
    if args.stage1_iters != 0:
        s1 = stage1_run(args)
        print(f'stage 1: classifier, {s1.iters} iterations', flush=True)
        execute([s1], 1, args.threads * args.jobs, logs, args.force)
        ckpt = stage1_checkpoint(s1.work_dir)
        wall = s1.wall_seconds()
        stage1 = dict(map=read_run(s1.work_dir, 'cls/mAP')['best'],
                      iters=s1.iters,
                      minutes=None if wall is None else wall / 60)
    runs = [model_run(args, m, n, s, ckpt) for s in args.seeds
            for n in args.budgets for m in args.models]
    print(f'{len(runs)} runs, {args.jobs} at a time, {args.threads} '
          f'thread(s) each', flush=True)
    kept = execute(runs, args.jobs, args.threads, logs, args.force)
    results = [read_run(r.work_dir) for r in runs]
    rows = summarize(results, extra=['cls/mAP'])
    ref = reference_levels(args.data_root)
    minutes = (time.time() - start) / 60
    iters = ', '.join(f'{LABELS[m]} {config_iters(model_config(m))}'
                      if args.iters is None else f'{LABELS[m]} {args.iters}'
                      for m in args.models)
    setting = (
        f'{len(runs)} runs ({len(args.models)} models × budgets '
        f'{", ".join(map(str, args.budgets))} × seeds '
        f'{", ".join(map(str, args.seeds))}; iterations: {iters})'
        + (f' after a {stage1["iters"]}-iteration stage-1 classifier '
           f'(val mAP {stage1["map"]:.1f}; ranking at random: '
           f'{ref["random_map"]:.1f})' if stage1 else ', random init') +
        f'; {minutes:.1f} min wall on {os.cpu_count()} CPU cores '
        f'({args.jobs} runs at a time'
        + (f'; {kept} runs kept from an earlier call' if kept else '') + ')')
    table = pivot_table(rows, args.models, args.budgets)
    paired = paired_differences(results, args.models, args.budgets)
    compat = paired_differences(results, args.models, args.budgets,
                                against='unrolled-lrp-compat')
    checks = world_checks(rows, args.budgets, num_train, stage1)
    reading = (f'Predicting background everywhere scores '
               f'{ref["background_miou"]:.2f} mIoU.')
    if paired:
        reading += ('\n\nPaired by seed (same split file and stage 1), '
                    'unrolled LRP minus the best baseline of each budget:'
                    '\n\n' + paired_table(paired))
    if compat:
        reading += ('\n\nThe default unrolled LRP minus its paper-compat '
                    'variant, paired by seed:\n\n'
                    + paired_table(compat, 'paper-compat'))
    cls_table = pivot_table(rows, args.models, args.budgets, key='cls/mAP')
    if len(cls_table.splitlines()) > 2:  # a model with a classifier ran
        reading += ('\n\nTheir classifiers (the models with one): val cls '
                    'mAP at the best-mIoU validation, mean over seeds'
                    + (f' (stage 1: {stage1["map"]:.1f})' if stage1 else '')
                    + ':\n\n' + cls_table)
    curve = curves(runs, args.models, args.budgets)
    reading += ('\n\nFlat at the end? Gain of the seed-mean val curve in '
                'the last quarter of each run (best overall minus best '
                'before it; mIoU points):\n\n'
                + late_gains(curve, args.models, args.budgets))
    if checks:
        reading += '\n\nWorld checks:\n\n' + '\n'.join(
            f'- {c}' for c in checks)
    with open(osp.join(args.work_dir, 'results.json'), 'w') as f:
        json.dump(dict(setting=setting, reference=ref, stage1=stage1,
                       runs=results, rows=rows, paired=paired,
                       world_checks=checks,
                       curves={f'{m}_n{n}': v
                               for (m, n), v in curve.items()}),
                  f, indent=1)
    with open(osp.join(args.work_dir, 'results.md'), 'w') as f:
        f.write(table + '\n\n' + reading + '\n')
    print('\n' + setting + '\nbest val mIoU (toy VOC val, standard '
          'protocol), mean ± std over seeds:\n' + table + '\n\n' + reading)
    curves_path = None
    if args.plot:
        title = f'toy VOC, {len(args.seeds)} seeds'
        plot(rows, args.models, args.plot, title, ref['background_miou'])
        curves_path = osp.splitext(args.plot)[0] + '_curves.png'
        plot_curves(curve, args.models, args.budgets, curves_path,
                    ref['background_miou'])
        print(f'plots: {args.plot}, {curves_path}')
    if args.readme:
        block = [f'`python tools/analysis_tools/toy_experiment.py` — '
                 f'{setting}. Best val mIoU (toy VOC val, 80 images, '
                 'standard protocol), mean ± sample std over seeds:', '',
                 table, '', reading]
        if args.plot:
            here = osp.dirname(osp.abspath(args.readme))
            block += ['', f'![toy experiment]'
                      f'({osp.relpath(osp.abspath(args.plot), here)}) '
                      f'![validation curves]'
                      f'({osp.relpath(osp.abspath(curves_path), here)})']
        write_readme(args.readme, '\n'.join(block))
        print(f'README block written: {args.readme}')
    return table + '\n\n' + reading


if __name__ == '__main__':
    main()
