"""Choose the pixel-labelled training images of semi-supervised VOC.

    python tools/dataset_converters/make_voc_splits.py \\
        data/VOCdevkit/VOC2012 \\
        --num 20 100 500 1464 --protocol paper --seed 0

Writes ``ImageSets/SemiSeg/{protocol}_{num}_seed{seed}.txt`` (one id per
line) from ``ImageSets/Segmentation/train.txt``: protocol ``paper`` is the
original's seeded class-balanced greedy selection (every class covered,
class counts as even as possible, blended with the natural class
distribution by ``--blend``: default 0 below 500 images, 0.5 from 500 on),
``original`` the original code's own weighted random draw, ported exactly
(with ``--seed 0``, its fixed seed, and the default blend it gives back the
original's 20 / 100 / 500 subsets; it may return fewer ids than asked, as
the original does, which is reported), ``classic`` a uniform random
sample. The LRP configs and the baselines read the same files. Class
labels come from the XMLs or ``--labels`` (the cache of
voc_image_labels.py). Ids without a mask are left out, with a warning.
"""
import argparse
import os
import os.path as osp
from typing import List

from mmseg_lrp.datasets.splits import (PROTOCOLS, class_counts,
                                       default_blend, select_pixel_ids)
from mmseg_lrp.datasets.voc_labels import (collect_image_labels, read_id_list,
                                           read_label_cache)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('root', help='the VOC2012 folder')
    parser.add_argument('--num', type=int, nargs='+', required=True,
                        help='numbers of pixel-labelled images')
    parser.add_argument('--protocol', choices=PROTOCOLS, default='paper')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--blend', type=float, default=None,
                        help='paper / original protocol: weight of the '
                        'natural class distribution (default 0 below 500, '
                        '0.5 from 500; original: 1 - --uniform_masks)')
    parser.add_argument('--source', default='ImageSets/Segmentation/train.txt',
                        help='list to choose from (relative to ROOT)')
    parser.add_argument('--labels', default=None,
                        help='label cache (relative to ROOT); default: XMLs')
    parser.add_argument('--out-dir', default='ImageSets/SemiSeg',
                        help='output folder (relative to ROOT)')
    parser.add_argument('--mask-dir', default='SegmentationClass',
                        help='mask folder (relative to ROOT): ids without a '
                        'mask there are left out of the splits')
    return parser.parse_args()


def with_masks(root: str, mask_dir: str, ids: List[str],
               source: str) -> List[str]:
    """The ids that have a mask; reports the others (they would only fail
    later, when training reads the split).

    Args:
        root: The VOC2012 folder.
        mask_dir: The mask folder, relative to ``root``.
        ids: Ids of the source list.
        source: The source list (for messages).

    Returns:
        The ids with a mask, in order.
    """
    folder = osp.join(root, mask_dir)
    if not osp.isdir(folder):
        raise SystemExit(f'mask folder not found: {folder}')
    kept = [i for i in ids if osp.isfile(osp.join(folder, f'{i}.png'))]
    have = set(kept)
    missing = [i for i in ids if i not in have]
    if missing:
        print(f'warning: {len(missing)} of {len(ids)} ids of {source} have '
              f'no mask in {folder} and are left out, e.g. '
              f'{", ".join(missing[:5])}')
    if not kept:
        raise SystemExit(f'no id of {source} has a mask in {folder}')
    return kept


def main():
    args = parse_args()
    source = osp.join(args.root, args.source)
    ids = with_masks(args.root, args.mask_dir, read_id_list(source), source)
    if args.labels:
        cache = read_label_cache(osp.join(args.root, args.labels), ids)
        labels = {i: cache[i] for i in ids}
    else:
        labels = collect_image_labels(
            osp.join(args.root, 'Annotations'), ids, progress=True)
        print()
    out_dir = osp.join(args.root, args.out_dir)
    os.makedirs(out_dir, exist_ok=True)
    for num in args.num:
        chosen = select_pixel_ids(labels, num, args.protocol, args.seed,
                                  args.blend, source=source)
        out = osp.join(out_dir, f'{args.protocol}_{num}_seed{args.seed}.txt')
        with open(out, 'w') as f:
            f.write(''.join(f'{i}\n' for i in chosen))
        blend = ''
        if len(chosen) < num:
            print(f'warning: the {args.protocol} draw returned {len(chosen)} '
                  f'of {num} ids (as the original code does when no image '
                  'fits the next class quota)')
        if args.protocol in ('paper', 'original'):
            b = default_blend(num) if args.blend is None else args.blend
            blend = f', blend {b}'
        counts = class_counts(labels, chosen)
        print(f'{out}: {len(chosen)} ids{blend}; images per class: '
              + ', '.join(f'{c} {n}' for c, n in counts.items()))


if __name__ == '__main__':
    main()
