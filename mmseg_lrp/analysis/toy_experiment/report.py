"""Tables, plots and the README block of the toy experiment."""
import os
import os.path as osp
import statistics
from typing import Dict, List, Optional, Sequence

from mmseg_lrp.utils.results import val_records
from .models import ARCH_LABELS, LABELS, LRP
from .stats import per_seed

BEGIN, END = '<!-- toy-experiment:begin -->', '<!-- toy-experiment:end -->'


def _fmt(values: Sequence[float]) -> str:
    if not values:
        return '–'
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f'{statistics.mean(values):.2f} ± {std:.2f}'


def score_table(results: Sequence[dict], models: Sequence[str],
                budgets: Sequence[int], metric: str = 'test') -> str:
    """Models as rows, budgets as columns: mean ± sample std over seeds of
    the test mIoU of the best-val checkpoint (``'test'``) or of the best
    val mIoU (``'val'``)."""
    head = ['model'] + [f'{n} pixel labels' for n in budgets]
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for m in models:
        cells = [_fmt(list(per_seed(results, m, n, metric).values()))
                 for n in budgets]
        if all(c == '–' for c in cells):
            continue
        lines.append(f'| {LABELS[m]} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def metric_table(results: Sequence[dict], models: Sequence[str],
                 budgets: Sequence[int], key: str,
                 where: str = 'val') -> str:
    """Mean over seeds of ``key`` at the best-mIoU validation (``where=
    'val'``) or in the test metrics (``'test'``); models without it are
    left out."""
    head = ['model'] + [f'{n} pixel labels' for n in budgets]
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for m in models:
        cells = []
        for n in budgets:
            got = []
            for r in results:
                if r['model_name'] != m or r['pixel_labels'] != n:
                    continue
                src = r['metrics'] if where == 'val' else (r.get('test')
                                                           or {})
                if key in src:
                    got.append(src[key])
            cells.append(f'{statistics.mean(got):.2f}' if got else None)
        if all(c is None for c in cells):
            continue
        lines.append(f'| {LABELS[m]} | '
                     + ' | '.join(c or '–' for c in cells) + ' |')
    return '\n'.join(lines) if len(lines) > 2 else ''


def comparison_table(rows: Sequence[dict]) -> str:
    """The paired differences of :func:`stats.comparisons` (a pair of
    another LRP model, e.g. the ViT's, names that model)."""
    lines = ['| pixel labels | LRP − … | per seed | mean [95 % CI] | '
             'LRP ahead |', '|---|---|---|---|---|']
    for r in rows:
        other = LABELS[r['other']] + (' (best baseline, chosen on val)'
                                      if r.get('best_baseline') else '')
        if r.get('model', LRP) != LRP:  # another architecture's pair
            other += f" (LRP here: {LABELS[r['model']]})"
        ci = ('' if r['lo'] != r['lo'] else
              f" [{r['lo']:+.2f}, {r['hi']:+.2f}]")
        lines.append(
            f"| {r['budget']} | {other} | "
            + ', '.join(f'{d:+.2f}' for d in r['diffs'])
            + f" | {r['mean']:+.2f}{ci} | {r['positive']}/{len(r['diffs'])}"
            ' |')
    return '\n'.join(lines)


def curves(results: Sequence[dict], models: Sequence[str],
           budgets: Sequence[int], key: str = 'mIoU'
           ) -> Dict[tuple, List[tuple]]:
    """Validation curves of ``key``: ``(model, budget) -> [(step, mean
    over seeds, number of seeds)]``."""
    out = {}
    for m in models:
        for n in budgets:
            per_step: Dict[int, List[float]] = {}
            for r in results:
                if r['model_name'] == m and r['pixel_labels'] == n:
                    for rec in val_records(r['work_dir']):
                        if key in rec:
                            per_step.setdefault(rec['step'], []).append(
                                rec[key])
            if per_step:
                out[(m, n)] = [(k, sum(v) / len(v), len(v))
                               for k, v in sorted(per_step.items())]
    return out


def late_gains(curve: Dict[tuple, List[tuple]], models: Sequence[str],
               budgets: Sequence[int], tail: float = 0.25) -> str:
    """How flat each curve ended: the best seed-mean val mIoU of the run
    minus the best before its last ``tail`` of iterations."""
    head = ['model'] + [f'{n} pixel labels' for n in budgets]
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for m in models:
        cells = []
        for n in budgets:
            pts = curve.get((m, n), [])
            last = pts[-1][0] if pts else 0
            early = [v for k, v, _ in pts if k <= (1 - tail) * last]
            cells.append('–' if not early else
                         f'{max(v for _, v, _ in pts) - max(early):+.2f}')
        if any(c != '–' for c in cells):
            lines.append(f'| {LABELS[m]} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def auroc_rise(curve: Dict[tuple, List[tuple]], models: Sequence[str],
               budgets: Sequence[int]) -> str:
    """Heatmap AUROC (``auroc/mean``) at the first and the last
    validation, seed means: guidance shows as a rise."""
    head = ['model'] + [f'{n} pixel labels' for n in budgets]
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for m in models:
        cells = []
        for n in budgets:
            pts = curve.get((m, n), [])
            cells.append('–' if not pts else
                         f'{pts[0][1]:.1f} → {pts[-1][1]:.1f}')
        if any(c != '–' for c in cells):
            lines.append(f'| {LABELS[m]} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) if len(lines) > 2 else ''


def plot(results: Sequence[dict], models: Sequence[str],
         budgets: Sequence[int], path: str, title: str,
         background_miou: Optional[float] = None,
         metric: str = 'test') -> None:
    """mIoU against pixel labels, one line per model (mean ± std)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    for m in models:
        pts = [(n, list(per_seed(results, m, n, metric).values()))
               for n in budgets]
        pts = [(n, v) for n, v in pts if v]
        if not pts:
            continue
        ax.errorbar([n for n, _ in pts], [statistics.mean(v) for _, v in pts],
                    yerr=[statistics.stdev(v) if len(v) > 1 else 0
                          for _, v in pts],
                    marker='o', capsize=3, label=LABELS[m])
    if background_miou is not None:
        ax.axhline(background_miou, color='grey', linestyle='--',
                   linewidth=1, label='background everywhere')
    ax.set_xscale('log')
    ax.set_xticks(list(budgets))
    ax.set_xticklabels([str(n) for n in budgets])
    ax.set_xlabel('pixel-labelled training images')
    ax.set_ylabel(f'{metric} mIoU (%)')
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


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


def write_readme(readme: str, block: str) -> None:
    """Replace the text between :data:`BEGIN` and :data:`END`."""
    with open(readme) as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        raise ValueError(f'{readme}: no {BEGIN} ... {END} block to replace')
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    with open(readme, 'w') as f:
        f.write(head + BEGIN + '\n' + block.strip() + '\n' + END + tail)


# the default world's targets (docs/toy_world.md), printed with every run
TARGET_STAGE1_MAP, TARGET_STAGE1_MIN = 90.0, 10.0
TARGET_UNET_ALL, TARGET_UNET_GAP = 60.0, 15.0


def _stage1_labels(stage1: Sequence[dict]) -> List[str]:
    """Each stage-1 classifier's architecture label: empty where every one
    is the ResNet (as before there were others), else its name."""
    archs = [s.get('arch', 'resnet') for s in stage1]
    if all(a == 'resnet' for a in archs):
        return ['' for _ in archs]
    return [ARCH_LABELS.get(a, a) for a in archs]


def stage1_summary(stage1: Sequence[dict]) -> str:
    """``seed 0: val mAP 93.2, ...`` of :func:`experiment._stage1_info`,
    each named by its architecture where several (or not the ResNet)
    are run."""
    return ', '.join(
        f"{label + ' ' if label else ''}seed {s['seed']}: val mAP "
        f"{s['map']:.1f}" for s, label in zip(stage1, _stage1_labels(stage1))
    ) or 'none (random init)'


def world_checks(results: Sequence[dict], num_train: int,
                 stage1: Sequence[dict]) -> List[str]:
    """The toy world's targets, measured: each stage-1 classifier's val mAP
    and time, the supervised UNet with all pixel labels (val), and its gap
    to the UNet with the fewest."""
    def mark(ok):
        return 'met' if ok else 'NOT met'

    lines = []
    for s, label in zip(stage1, _stage1_labels(stage1)):
        took = '?' if s['minutes'] is None else f"{s['minutes']:.1f}"
        ok = (s['map'] >= TARGET_STAGE1_MAP and s['minutes'] is not None
              and s['minutes'] <= TARGET_STAGE1_MIN)
        name = f' ({label})' if label else ''
        lines.append(f"stage-1 classifier{name}, seed {s['seed']}: val mAP "
                     f"{s['map']:.1f} in {took} min (target ≥ "
                     f'{TARGET_STAGE1_MAP:.0f} in ≤ {TARGET_STAGE1_MIN:.0f} '
                     f'min: {mark(ok)})')
    unet = {}
    for r in results:
        if r['model_name'] == 'unet':
            unet.setdefault(r['pixel_labels'], []).append(r['best'])
    if num_train in unet:
        full = statistics.mean(unet[num_train])
        lines.append(f'supervised UNet, all {num_train} pixel labels: '
                     f'{full:.2f} val mIoU (target ≥ {TARGET_UNET_ALL:.0f}: '
                     f'{mark(full >= TARGET_UNET_ALL)})')
        fewest = min(unet)
        if fewest != num_train:
            few = statistics.mean(unet[fewest])
            lines.append(f'supervised UNet, {fewest} pixel labels: {few:.2f} '
                         f'val mIoU, {full - few:.2f} below all (target ≥ '
                         f'{TARGET_UNET_GAP:.0f} below: '
                         f'{mark(full - few >= TARGET_UNET_GAP)})')
    return lines
