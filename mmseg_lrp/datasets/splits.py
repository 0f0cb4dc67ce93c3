"""Choosing the pixel-labelled subset of the segmentation training list."""
from typing import Dict, List, Optional, Sequence

import numpy as np

PROTOCOLS = ('paper', 'classic', 'original')


def default_blend(num: int) -> float:
    """Weight of the natural class distribution in the paper protocol: 0 (as
    even as possible) below 500 pixel-labelled images, 0.5 from 500 on, as
    the original mixed in the natural distribution for its 500 split."""
    return 0.5 if num >= 500 else 0.0


def original_draw(labs: np.ndarray, num: int, uniform: float,
                  seed: int = 0) -> List[int]:
    """The original code's weighted random greedy draw, ported step by step
    so that its subsets come back (``random_sampling_with_distribution`` of
    TW-autoencoder's ``utils/sampling_utils.py``, as called by its
    ``datasets.py``).

    Each step: the classes' open quotas (target share x the running number
    of wanted masks, minus what was drawn) give class probabilities; an
    image's weight is the lowest probability among its classes; only images
    showing the class with the highest probability are eligible; one is
    drawn with numpy's legacy generator seeded once with ``seed`` (the
    original's ``np.random.seed``; a private ``RandomState`` here, same
    stream). A step with no eligible image draws nothing, so fewer than
    ``num`` may come back, as in the original. Arithmetic follows the
    original's order (Python ``sum`` where it used it) so that
    floating-point ties resolve the same way.

    Args:
        labs: ``(n, C)`` 0/1 class matrix of the candidates (background
            excluded), rows in the original's order (sorted ids).
        num: How many to draw.
        uniform: The original's ``--uniform_masks``: weight of the uniform
            class distribution against the natural one.
        seed: The original's fixed seed (0).

    Returns:
        Row indices in the order drawn.
    """
    labs = np.asarray(labs, dtype=np.float64)
    counts = np.sum(labs, axis=0)
    dist = counts / sum(counts)
    dist = uniform * (np.ones(len(dist)) / len(dist)) + (1 - uniform) * dist
    rng = np.random.RandomState(seed)
    remaining = np.arange(len(labs))
    n_masks = np.copy(num)
    chosen: List[int] = []
    drawn = np.zeros(len(dist))
    for _ in range(num):
        open_quota = dist * n_masks - drawn
        open_quota[open_quota < 0] = 0
        p_class = open_quota / sum(open_quota)
        weights = np.multiply(labs[remaining], p_class)
        weights[labs[remaining] == 0] = np.inf  # classes not shown
        p = np.min(weights, axis=1)
        p[p == np.inf] = 0
        p = p * (labs[remaining, np.argmax(p_class)] > 0)
        if np.sum(p) > 1e-6:
            p /= sum(p)
            pick = rng.choice(remaining, 1, p=p)[0]
            chosen.append(int(pick))
            remaining = np.delete(remaining, np.where(remaining == pick))
            drawn = drawn + labs[pick]
            n_masks = n_masks + (sum(labs[pick]) - 1)
    return chosen


def select_pixel_ids(labels: Dict[str, Sequence[str]],
                     num: int,
                     protocol: str = 'paper',
                     seed: int = 0,
                     blend: Optional[float] = None,
                     source: str = 'the source list',
                     classes: Optional[Sequence[str]] = None) -> List[str]:
    """Choose ``num`` ids of ``labels`` (the segmentation training list).

    ``original``: the original code's draw (:func:`original_draw`) over the
    sorted ids, its class columns in ``classes`` order, uniform weight
    ``1 - blend``; its seed is fixed at 0 in the original, so ``seed``
    other than 0 gives other subsets than the paper's; it may return fewer
    than ``num`` ids (see there). ``classic``: uniform random sample.
    ``paper``: seeded class-balanced
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
        classes: Class columns of ``original`` (background excluded;
            default: the 20 VOC classes). Labels outside them are an error.

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
    if protocol == 'original':
        return sorted(ids[i] for i in original_draw(
            _class_matrix(labels, ids, classes, source), num, 1 - blend,
            seed))
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


def _class_matrix(labels: Dict[str, Sequence[str]], ids: Sequence[str],
                  classes: Optional[Sequence[str]], source: str) -> np.ndarray:
    """0/1 matrix of ``ids`` x ``classes`` (default: VOC without
    background)."""
    if classes is None:
        from .class_names import VOC_CLASSES
        classes = VOC_CLASSES[1:]
    col = {c: k for k, c in enumerate(classes)}
    labs = np.zeros((len(ids), len(classes)))
    for r, i in enumerate(ids):
        for c in labels[i]:
            if c not in col:
                raise ValueError(f'{source}: id {i} has class {c!r}, not '
                                 f'one of the split classes {list(classes)}')
            labs[r, col[c]] = 1
    return labs
