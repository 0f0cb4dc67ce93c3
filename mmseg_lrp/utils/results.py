"""Reading finished runs back from their work dirs (for comparison
tables)."""
import glob
import json
import os.path as osp
import re
import statistics
from typing import Dict, List, Optional, Sequence

from mmengine.config import Config


def _pixel_budget(cfg: Config) -> Optional[int]:
    """Number of pixel-labelled training images of a run's config: the
    length of the split file of its VOCPixelLabelDataset (or, if the file is
    not at hand, the N of ``..._N_seedS.txt``); None without a pixel pool."""
    ds = cfg.train_dataloader.dataset
    pools = ds.get('datasets', None) or [ds]
    for i, pool in enumerate(pools):
        if pool.get('type') in ('VOCPixelLabelDataset', 'PascalVOCDataset'):
            ann = pool.get('ann_file', '')
            if i == 0 and ds.get('pixel_split', None):  # SemiVOCDataset
                ann = ds['pixel_split']
            path = ann if osp.isabs(ann) else osp.join(
                pool.get('data_root', '') or '', ann)
            if osp.isfile(path):
                with open(path) as f:
                    return sum(1 for line in f if line.strip())
            m = re.search(r'_(\d+)_seed\d+', ann)
            return int(m.group(1)) if m else None
    return None


def _scalar_files(work_dir: str) -> List[str]:
    return sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                     'scalars.json')))


def val_records(work_dir: str, metric: str = 'mIoU') -> List[dict]:
    """Every logged record of a work dir that holds ``metric`` (the
    validations), oldest run first; empty if nothing was logged."""
    vals = []
    for path in _scalar_files(work_dir):
        with open(path) as f:
            for line in f:
                rec = json.loads(line)
                if metric in rec:
                    vals.append(rec)
    return vals


def model_key(config: str) -> str:
    """The model name of a config file name: its first two ``_`` parts
    (``unet_r50_1xb10-...`` -> ``unet_r50``), as runs are grouped."""
    return '_'.join(osp.basename(config).split('_')[:2])


def read_run(work_dir: str, metric: str = 'mIoU') -> dict:
    """The best validation result of one run.

    Args:
        work_dir: A run's work dir (mmengine layout: ``{timestamp}/vis_data/
            {config.py, scalars.json}``; several timestamps after resuming).
        metric: The validation metric to maximise.

    Returns:
        dict with ``work_dir``, ``config`` (file name of the config),
        ``model`` (its first two name parts), ``pixel_labels``, ``seed``,
        ``best`` (value of ``metric``), ``step`` (its iteration) and
        ``metrics`` (all validation metrics at that step).
    """
    scalars = _scalar_files(work_dir)
    if not scalars:
        raise FileNotFoundError(
            f'{work_dir}: no */vis_data/scalars.json (not an mmengine work '
            'dir, or the run never logged)')
    vals = val_records(work_dir, metric)
    if not vals:
        raise ValueError(f'{work_dir}: no validation result with {metric!r}')
    best = max(vals, key=lambda r: r[metric])
    cfg = Config.fromfile(osp.join(osp.dirname(scalars[-1]), 'config.py'))
    names = [osp.splitext(osp.basename(p))[0]
             for p in glob.glob(osp.join(work_dir, '*.py'))]
    config = names[0] if len(names) == 1 else osp.basename(
        osp.normpath(work_dir))
    return dict(
        work_dir=work_dir,
        config=config,
        model=model_key(config),
        pixel_labels=_pixel_budget(cfg),
        seed=(cfg.get('randomness', None) or {}).get('seed'),
        best=best[metric],
        step=best.get('step'),
        metrics={k: v for k, v in best.items()
                 if k not in ('step', 'time', 'data_time')})


def summarize(runs: Sequence[dict],
              extra: Sequence[str] = ()) -> List[Dict[str, object]]:
    """Group runs by (model, pixel labels): mean and sample standard
    deviation of the best metric over seeds, and the mean of ``extra``
    metrics."""
    groups: Dict[tuple, List[dict]] = {}
    for r in runs:
        groups.setdefault((r['model'], r['pixel_labels']), []).append(r)
    rows = []
    for (model, n), rs in sorted(groups.items(),
                                 key=lambda kv: (str(kv[0][0]),
                                                 kv[0][1] or 0)):
        best = [r['best'] for r in rs]
        row = dict(model=model, pixel_labels=n, runs=len(rs),
                   mean=statistics.mean(best),
                   std=statistics.stdev(best) if len(best) > 1 else 0.0,
                   seeds=sorted(r['seed'] for r in rs
                                if r['seed'] is not None))
        for key in extra:
            got = [r['metrics'][key] for r in rs if key in r['metrics']]
            row[key] = statistics.mean(got) if got else None
        rows.append(row)
    return rows


def markdown_table(rows: Sequence[dict], metric: str = 'mIoU',
                   extra: Sequence[str] = ()) -> str:
    """The rows of :func:`summarize` as a markdown table."""
    head = ['model', 'pixel labels', 'runs (seeds)',
            f'best val {metric} (mean ± std)'] + list(extra)
    lines = ['| ' + ' | '.join(head) + ' |',
             '|' + '---|' * len(head)]
    for r in rows:
        cells = [str(r['model']),
                 '–' if r['pixel_labels'] is None else str(r['pixel_labels']),
                 f"{r['runs']} ({', '.join(map(str, r['seeds'])) or '?'})",
                 f"{r['mean']:.2f} ± {r['std']:.2f}"]
        cells += ['–' if r.get(k) is None else f'{r[k]:.2f}' for k in extra]
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)
