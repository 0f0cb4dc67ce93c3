"""Choosing the pixel-labelled subset of the segmentation training list."""
from typing import Dict, List, Optional, Sequence

import numpy as np

PROTOCOLS = ('paper', 'classic')


def default_blend(num: int) -> float:
    """Weight of the natural class distribution in the paper protocol: 0 (as
    even as possible) below 500 pixel-labelled images, 0.5 from 500 on, as
    the original mixed in the natural distribution for its 500 split."""
    return 0.5 if num >= 500 else 0.0


def select_pixel_ids(labels: Dict[str, Sequence[str]],
                     num: int,
                     protocol: str = 'paper',
                     seed: int = 0,
                     blend: Optional[float] = None,
                     source: str = 'the source list') -> List[str]:
    """Choose ``num`` ids of ``labels`` (the segmentation training list).

    ``classic``: uniform random sample. ``paper``: seeded class-balanced
    greedy selection. Each class gets a target share ``(1 - blend) /
    C + blend * natural_share`` of the chosen label occurrences; each step
    takes the class furthest below its share (ties in seeded random order),
    and among the remaining images showing it the one whose classes are
    least over their shares. With ``num`` at least the number of classes
    every class is covered first.

    Args:
        labels: ``{id: class names}`` of the source list (image-level).
        num: How many to choose.
        protocol: ``'paper'`` or ``'classic'``.
        seed: Random seed.
        blend: Weight of the natural distribution (paper); None picks
            :func:`default_blend`.
        source: Name of the source list, for error messages.

    Returns:
        The chosen ids, sorted.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f'protocol must be one of {PROTOCOLS}, got '
                         f'{protocol!r}')
    ids = sorted(labels)
    if num < 1:
        raise ValueError(f'num must be >= 1, got {num}')
    if num > len(ids):
        raise ValueError(f'a split of {num} ids is larger than {source} '
                         f'({len(ids)} ids)')
    rng = np.random.default_rng(seed)
    if num == len(ids):
        return ids
    if protocol == 'classic':
        return sorted(ids[i] for i in rng.choice(len(ids), num, replace=False))

    blend = default_blend(num) if blend is None else blend
    if not 0 <= blend <= 1:
        raise ValueError(f'blend must be in [0, 1], got {blend}')
    classes = sorted({c for v in labels.values() for c in v})
    cidx = {c: k for k, c in enumerate(classes)}
    order = [ids[i] for i in rng.permutation(len(ids))]  # seeded tie-break
    member = {i: [cidx[c] for c in set(labels[i])] for i in ids}
    natural = np.zeros(len(classes))
    for i in ids:
        natural[member[i]] += 1
    share = (1 - blend) / len(classes) + blend * natural / natural.sum()
    class_rank = rng.permutation(len(classes))  # seeded tie-break of classes
    counts = np.zeros(len(classes))
    remaining = list(order)
    chosen = []
    while len(chosen) < num:
        ratio = counts / share
        for k in np.lexsort((class_rank, ratio)):
            cands = [i for i in remaining if k in member[i]]
            if cands:
                break
        else:  # only images without labels are left
            cands = remaining
        # the candidate whose classes would end least over their share
        cost = [max(((counts[c] + 1) / share[c] for c in member[i]),
                    default=0.0) for i in cands]
        pick = cands[int(np.argmin(cost))]
        chosen.append(pick)
        remaining.remove(pick)
        counts[member[pick]] += 1
    return sorted(chosen)


def class_counts(labels: Dict[str, Sequence[str]],
                 ids: Sequence[str]) -> Dict[str, int]:
    """How many of ``ids`` show each class."""
    out: Dict[str, int] = {}
    for i in ids:
        for c in set(labels[i]):
            out[c] = out.get(c, 0) + 1
    return dict(sorted(out.items()))
