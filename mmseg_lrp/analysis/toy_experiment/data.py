"""The data of the toy experiment: one VOC-layout world per root, its
label cache and split files, and the levels of trivial predictors."""
import os.path as osp
import subprocess
import sys
from typing import Dict, Sequence

from .models import TOOLS_DIR

# where the suite's worlds live (the default world where make toy-data
# writes it)
WORLD_ROOTS = {'digits': 'data/toy_voc/VOC2012'}
NUM_SEG_TRAIN, NUM_SEG_VAL, NUM_SEG_TEST = 120, 80, 80


def world_root(world: str) -> str:
    """Default data root of a toy world."""
    return WORLD_ROOTS.get(world, f'data/toy_worlds/{world}/VOC2012')


def split_file(n: int, seed: int) -> str:
    return f'ImageSets/SemiSeg/paper_{n}_seed{seed}.txt'


def split_path(root: str, n: int, seed: int) -> str:
    return osp.join(root, split_file(n, seed))


def run_tool(script: str, *args) -> None:
    cmd = [sys.executable, osp.join(TOOLS_DIR, script)] + [
        str(a) for a in args
    ]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def _label_cache_valid(path: str) -> bool:
    """Whether the label cache exists and matches its XMLs (an outdated or
    stale one is rebuilt, never trained on)."""
    from mmseg_lrp.datasets.voc_labels import (LabelCacheError,
                                               read_label_cache)
    try:
        read_label_cache(path)
    except (FileNotFoundError, LabelCacheError) as e:
        if osp.isfile(path):
            print(f'rebuilding the label cache: {e}', flush=True)
        return False
    return True


def prepare_data(root: str, image_pool: int, budgets: Sequence[int],
                 seeds: Sequence[int], world: str = 'digits') -> int:
    """Generate the toy VOC of ``world`` at ``root`` if missing, then the
    label cache and the split files (each written once).

    Returns:
        The number of pixel-labelled train images.
    """
    if not osp.isdir(osp.join(root, 'JPEGImages')):
        from mmseg_lrp.datasets import make_toy_voc
        print(f'generating the {world!r} toy VOC in {root} ({image_pool} '
              'image-level images) ...', flush=True)
        make_toy_voc(root, num_images=NUM_SEG_TRAIN + NUM_SEG_VAL +
                     image_pool, num_seg_train=NUM_SEG_TRAIN,
                     num_seg_val=NUM_SEG_VAL, num_seg_test=NUM_SEG_TEST,
                     world=world, seed=0)
    if not _label_cache_valid(osp.join(root, 'ImageLabels.json')):
        run_tool('dataset_converters/voc_image_labels.py', root)
    with open(osp.join(root, 'ImageSets', 'Segmentation', 'train.txt')) as f:
        num_train = sum(1 for line in f if line.strip())
    for n in budgets:
        if not 0 < n <= num_train:
            raise ValueError(f'budget {n}: {root} has {num_train} '
                             'pixel-labelled train images')
        for s in seeds:
            if not osp.isfile(split_path(root, n, s)):
                run_tool('dataset_converters/make_voc_splits.py', root,
                         '--num', n, '--seed', s)
    return num_train


def reference_levels(root: str, split: str = 'val') -> Dict[str, float]:
    """What trivial predictors score on a split, to read the tables
    against: ``background_miou``, the mIoU of predicting background
    everywhere (background IoU = its share of the labelled pixels, every
    other class present 0), and ``random_map``, the expected mAP of a
    classifier ranking at random (the mean share of images showing a
    class, here read from the masks)."""
    import numpy as np
    from PIL import Image

    from mmseg_lrp.datasets.voc_labels import read_id_list
    ids = read_id_list(osp.join(root, 'ImageSets', 'Segmentation',
                                f'{split}.txt'))
    bg = labelled = 0
    present = set()
    shown = []
    for i in ids:
        mask = np.array(Image.open(osp.join(root, 'SegmentationClass',
                                            f'{i}.png')))
        valid = mask[mask != 255]
        bg += int((valid == 0).sum())
        labelled += valid.size
        shown.append(set(np.unique(valid).tolist()) - {0})
        present |= set(np.unique(valid).tolist())
    classes = sorted(present - {0})
    share = [sum(c in s for s in shown) / len(ids) for c in classes]
    return dict(background_miou=100 * bg / labelled / len(present),
                random_map=100 * sum(share) / len(share))
