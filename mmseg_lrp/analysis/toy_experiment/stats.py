"""Statistics of the toy experiment: paired differences between models
with their 95 % confidence intervals."""
import math
import statistics
from typing import Dict, List, Optional, Sequence, Tuple


def t_quantile(p: float, dof: int) -> float:
    """The ``p`` quantile of Student's t with ``dof`` degrees of freedom."""
    from scipy.stats import t
    return float(t.ppf(p, dof))


def mean_ci(values: Sequence[float], level: float = 0.95) -> dict:
    """Mean, sample std and the two-sided ``level`` t-interval of the
    mean (``lo``/``hi`` are NaN with fewer than two values)."""
    n = len(values)
    mean = statistics.mean(values)
    std = statistics.stdev(values) if n > 1 else 0.0
    if n < 2:
        return dict(mean=mean, std=std, lo=math.nan, hi=math.nan, n=n)
    half = t_quantile(0.5 + level / 2, n - 1) * std / math.sqrt(n)
    return dict(mean=mean, std=std, lo=mean - half, hi=mean + half, n=n)


def per_seed(results: Sequence[dict], model: str, n: int,
             metric: str = 'test') -> Dict[int, float]:
    """``{seed: score}`` of one (model, budget): the test mIoU of the
    best-val checkpoint (``metric='test'``) or the best val mIoU
    (``'val'``)."""
    out = {}
    for r in results:
        if r['model_name'] != model or r['pixel_labels'] != n:
            continue
        if metric == 'val':
            out[r['seed']] = r['best']
        elif r.get('test') is not None:
            out[r['seed']] = r['test']['mIoU']
    return out


def paired(results: Sequence[dict], model: str, other: str, n: int,
           metric: str = 'test') -> Optional[dict]:
    """``model - other`` per seed (same split file, same stage 1), with
    :func:`mean_ci` of the differences and how many are positive; None if
    no seed has both."""
    a = per_seed(results, model, n, metric)
    b = per_seed(results, other, n, metric)
    seeds = sorted(set(a) & set(b))
    if not seeds:
        return None
    diffs = [a[s] - b[s] for s in seeds]
    out = mean_ci(diffs)
    out.update(model=model, other=other, budget=n, seeds=seeds, diffs=diffs,
               positive=sum(d > 0 for d in diffs))
    return out


def best_of(results: Sequence[dict], models: Sequence[str], n: int,
            metric: str = 'val') -> Optional[str]:
    """The model of ``models`` with the highest mean score at budget ``n``
    (chosen on ``metric``, val by default: the choice must not see test)."""
    scored = [(statistics.mean(v.values()), m) for m in models
              for v in [per_seed(results, m, n, metric)] if v]
    return max(scored)[1] if scored else None


def comparisons(results: Sequence[dict], lrp: str, others: Sequence[str],
                baselines: Sequence[str], budgets: Sequence[int],
                metric: str = 'test',
                pairs: Sequence[Tuple[str, str]] = ()) -> List[dict]:
    """Paired ``lrp - X`` for every X of ``others`` and for the best
    baseline of each budget (chosen on val), then ``a - b`` for every
    ``(a, b)`` of ``pairs`` (e.g. the ViT's LRP model and its reference)."""
    rows = []
    for n in budgets:
        best = best_of(results, baselines, n, 'val')
        for other in list(others) + ([best] if best else []):
            row = paired(results, lrp, other, n, metric)
            if row is not None:
                row['best_baseline'] = other == best and other not in others
                rows.append(row)
        for model, other in pairs:
            row = paired(results, model, other, n, metric)
            if row is not None:
                row['best_baseline'] = False
                rows.append(row)
    return rows
