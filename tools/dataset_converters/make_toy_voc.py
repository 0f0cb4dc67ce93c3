"""Write the embedded toy dataset in the PASCAL VOC 2012 layout.

    python tools/dataset_converters/make_toy_voc.py data/toy_voc/VOC2012 \
        [--world digits|photos|photos-clutter|shapes] [--num-images N] [--seed S]

See :mod:`mmseg_lrp.datasets.toy_voc` for what is written and
:mod:`mmseg_lrp.datasets.toy_worlds` for the worlds. The same seed writes the
same files.
"""
import argparse
import time

from mmseg_lrp.datasets.toy_voc import ensure_toy_voc, make_toy_voc
from mmseg_lrp.datasets.toy_worlds import TOY_WORLDS


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    parser.add_argument('root', help='output folder (the VOC2012 level)')
    parser.add_argument('--num-images', type=int, default=8200)
    parser.add_argument('--num-seg-train', type=int, default=120,
                        help='pixel-labelled training images')
    parser.add_argument('--num-seg-val', type=int, default=80,
                        help='pixel-labelled validation images')
    parser.add_argument('--num-seg-test', type=int, default=80,
                        help='pixel-labelled test images (in addition to '
                        '--num-images)')
    parser.add_argument('--world', default='digits', choices=list(TOY_WORLDS),
                        help='what the images show (default: digits)')
    parser.add_argument('--size-range', type=int, nargs=2, default=None,
                        metavar=('MIN', 'MAX'),
                        help="image side range (px; default: the world's)")
    parser.add_argument('--max-objects', type=int, default=None,
                        help="most objects per image (default: the world's)")
    parser.add_argument('--max-distractors', type=int, default=None,
                        help='most distractors per image (default: the '
                        "world's)")
    parser.add_argument('--seed', type=int, default=0)
    group = parser.add_mutually_exclusive_group()
    group.add_argument('--overwrite', action='store_true',
                       help='replace an existing dataset in ROOT')
    group.add_argument('--if-missing', action='store_true',
                       help='do nothing if ROOT already holds the dataset')
    return parser.parse_args()


def main():
    args = parse_args()
    options = {k: getattr(args, k) for k in ('max_objects', 'max_distractors')
               if getattr(args, k) is not None}
    kwargs = dict(
        num_images=args.num_images,
        num_seg_train=args.num_seg_train,
        num_seg_val=args.num_seg_val,
        num_seg_test=args.num_seg_test,
        size_range=args.size_range and tuple(args.size_range),
        world=args.world,
        world_options=options,
        seed=args.seed,
        progress=True)
    start = time.time()
    if args.if_missing:
        ids = ensure_toy_voc(args.root, **kwargs)
        if ids is None:
            print(f'toy VOC already present in {args.root}')
            return
    else:
        ids = make_toy_voc(args.root, overwrite=args.overwrite, **kwargs)
    print(f'\nwrote toy VOC to {args.root} in {time.time() - start:.1f} s: '
          f'{len(ids["seg_train"])} pixel-labelled train, '
          f'{len(ids["seg_val"])} val, {len(ids["seg_test"])} test, '
          f'{len(ids["image_only"])} image-level '
          'only')


if __name__ == '__main__':
    main()
