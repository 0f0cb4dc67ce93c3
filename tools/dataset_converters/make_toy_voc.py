"""Write the embedded toy dataset in the PASCAL VOC 2012 layout.

    python tools/dataset_converters/make_toy_voc.py data/toy_voc/VOC2012

See :mod:`mmseg_lrp.datasets.toy_voc` for what is written. The same seed
writes the same files.
"""
import argparse
import time

from mmseg_lrp.datasets.toy_voc import (BACKGROUND_CONTRAST, ensure_toy_voc,
                                        make_toy_voc)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    parser.add_argument('root', help='output folder (the VOC2012 level)')
    parser.add_argument('--num-images', type=int, default=360)
    parser.add_argument('--num-seg-train', type=int, default=120,
                        help='pixel-labelled training images')
    parser.add_argument('--num-seg-val', type=int, default=80,
                        help='pixel-labelled validation images')
    parser.add_argument('--size-range', type=int, nargs=2, default=(96, 128),
                        metavar=('MIN', 'MAX'), help='image side range (px)')
    parser.add_argument('--max-objects', type=int, default=4)
    parser.add_argument('--max-distractors', type=int, default=2)
    parser.add_argument('--background-contrast', type=float,
                        default=BACKGROUND_CONTRAST)
    parser.add_argument('--seed', type=int, default=0)
    group = parser.add_mutually_exclusive_group()
    group.add_argument('--overwrite', action='store_true',
                       help='replace an existing dataset in ROOT')
    group.add_argument('--if-missing', action='store_true',
                       help='do nothing if ROOT already holds the dataset')
    return parser.parse_args()


def main():
    args = parse_args()
    kwargs = dict(
        num_images=args.num_images,
        num_seg_train=args.num_seg_train,
        num_seg_val=args.num_seg_val,
        size_range=tuple(args.size_range),
        max_objects=args.max_objects,
        max_distractors=args.max_distractors,
        background_contrast=args.background_contrast,
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
          f'{len(ids["seg_val"])} val, {len(ids["image_only"])} image-level '
          'only')


if __name__ == '__main__':
    main()
