"""A small synthetic dataset in the exact PASCAL VOC 2012 layout.

It is the embedded default data of the project: the demo, the tests and the
toy experiments run on it, and mmseg's own ``PascalVOCDataset`` reads it
unchanged. Written files::

    {root}/JPEGImages/{id}.jpg                     every image
    {root}/SegmentationClass/{id}.png              palette PNG, VOC indices,
                                                   255 on object borders (only
                                                   for the segmentation ids)
    {root}/Annotations/{id}.xml                    VOC XML, every image
    {root}/ImageSets/Segmentation/{train,val,trainval,test}.txt
    {root}/ImageSets/Main/{train,val,trainval,test}.txt

The test images (``test.txt``) are drawn after all the others from a
random stream of their own and, like val, from a world's held-out material,
so adding them changes no other image. They are kept out of every training
pool: reported numbers come from them, recipes are chosen on val.

Like real VOC, only part of the images are pixel-labelled (listed in
``ImageSets/Segmentation``); the others have a JPEG and an XML only, i.e.
image-level labels.

What the images show is a *world* (:mod:`mmseg_lrp.datasets.toy_worlds`):
``digits`` (default; handwritten digits as objects, learnable in CPU
minutes) or ``shapes`` (geometric shapes in clutter, hard on purpose). Both
draw the six classes :data:`TOY_CLASSES`, so one config fits either.
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Tuple
from xml.etree import ElementTree as ET

import numpy as np
from PIL import Image

from .class_names import VOC_CLASSES, voc_palette
from .toy_worlds import TOY_CLASSES, build_world
from .voc_labels import read_voc_xml_names

__all__ = [
    'TOY_CLASSES', 'VOC_CLASSES', 'voc_palette', 'voc_xml', 'make_toy_voc',
    'read_voc_xml_names', 'ensure_toy_voc'
]


def voc_xml(image_id: str, h: int, w: int, objects: List[dict]) -> bytes:
    """A PASCAL VOC annotation XML for one image."""
    ann = ET.Element('annotation')
    ET.SubElement(ann, 'folder').text = 'VOC2012'
    ET.SubElement(ann, 'filename').text = f'{image_id}.jpg'
    src = ET.SubElement(ann, 'source')
    ET.SubElement(src, 'database').text = 'mmseg_lrp toy VOC'
    size = ET.SubElement(ann, 'size')
    for k, v in (('width', w), ('height', h), ('depth', 3)):
        ET.SubElement(size, k).text = str(v)
    ET.SubElement(ann, 'segmented').text = '0'
    for o in objects:
        obj = ET.SubElement(ann, 'object')
        ET.SubElement(obj, 'name').text = o['name']
        ET.SubElement(obj, 'pose').text = 'Unspecified'
        ET.SubElement(obj, 'truncated').text = str(o['truncated'])
        ET.SubElement(obj, 'difficult').text = '0'
        box = ET.SubElement(obj, 'bndbox')
        for k, v in zip(('xmin', 'ymin', 'xmax', 'ymax'), o['bbox']):
            ET.SubElement(box, k).text = str(v)
    ET.indent(ann)
    return ET.tostring(ann, encoding='utf-8')


def make_toy_voc(root: str,
                 num_images: int = 8200,
                 num_seg_train: int = 120,
                 num_seg_val: int = 80,
                 num_seg_test: int = 80,
                 size_range: Optional[Tuple[int, int]] = None,
                 world: str = 'digits',
                 world_options: Optional[dict] = None,
                 seed: int = 0,
                 overwrite: bool = False,
                 progress: bool = False) -> Dict[str, List[str]]:
    """Write a toy dataset in the PASCAL VOC 2012 layout.

    Args:
        root: Output folder (the ``VOC2012`` level, holding ``JPEGImages``).
        num_images: Number of images in all.
        num_seg_train: How many of them are pixel-labelled training images.
        num_seg_val: How many are pixel-labelled validation images. The rest
            have image-level labels (XML) only, as in VOC.
        num_seg_test: Pixel-labelled test images written in addition to the
            ``num_images`` (ids after theirs).
        size_range: Inclusive range of image height and width (each drawn
            independently, so most images are not square); default: the
            world's (digits 64-80, shapes 96-128).
        world: What the images show, a key of
            :data:`~mmseg_lrp.datasets.toy_worlds.TOY_WORLDS`: ``'digits'``
            (default) or ``'shapes'``.
        world_options: Options of the world's class, e.g.
            ``dict(max_objects=3, max_distractors=1)``.
        seed: Random seed; the same seed writes the same files.
        overwrite: Allow writing into a folder that already holds images.
        progress: Show a progress bar.

    Returns:
        dict: The written id lists, keys ``seg_train``, ``seg_val``,
        ``seg_test``, ``image_only``.
    """
    if num_seg_train + num_seg_val > num_images:
        raise ValueError(
            f'num_seg_train + num_seg_val = {num_seg_train + num_seg_val} '
            f'exceeds num_images = {num_images}')
    world = build_world(world, **(world_options or {}))
    size_range = tuple(size_range or world.default_size)
    if min(size_range) < 32 or size_range[0] > size_range[1]:
        raise ValueError(f'invalid size_range {size_range}')
    img_dir = osp.join(root, 'JPEGImages')
    if osp.isdir(img_dir) and os.listdir(img_dir) and not overwrite:
        raise FileExistsError(
            f'{img_dir} already holds images; pass overwrite=True '
            '(--overwrite) to replace the dataset')
    dirs = {k: osp.join(root, k) for k in (
        'JPEGImages', 'SegmentationClass', 'Annotations',
        'ImageSets/Segmentation', 'ImageSets/Main')}
    for d in dirs.values():
        os.makedirs(d, exist_ok=True)

    ids = [f'2012_{i:06d}' for i in range(num_images)]
    seg_test = [f'2012_{num_images + j:06d}' for j in range(num_seg_test)]
    # A separate stream decides the splits, so changing the number of images
    # does not reshuffle which earlier images are pixel-labelled.
    order = np.random.default_rng([seed, 1]).permutation(num_images)
    seg_train = sorted(ids[i] for i in order[:num_seg_train])
    seg_val = sorted(ids[i]
                     for i in order[num_seg_train:num_seg_train + num_seg_val])
    segmented = set(seg_train) | set(seg_val) | set(seg_test)
    held_out = set(seg_val) | set(seg_test)
    palette = voc_palette().flatten().tolist()

    # (stream, index) of every image: test images have a stream of their
    # own, so they change none of the others
    jobs = [(0, n) for n in range(num_images)]
    jobs += [(2, j) for j in range(num_seg_test)]
    if progress:
        from mmengine.utils import track_iter_progress
        jobs = track_iter_progress(jobs)
    for stream, n in jobs:
        image_id = f'2012_{n if stream == 0 else num_images + n:06d}'
        rng = np.random.default_rng([seed, stream, n])
        h, w = (int(v) for v in rng.integers(size_range[0], size_range[1] + 1,
                                             size=2))
        img, label, objects = world.render(rng, h, w,
                                           val=image_id in held_out)
        Image.fromarray(img).save(
            osp.join(dirs['JPEGImages'], f'{image_id}.jpg'), quality=90)
        with open(osp.join(dirs['Annotations'], f'{image_id}.xml'), 'wb') as f:
            f.write(voc_xml(image_id, h, w, objects))
        if image_id in segmented:
            png = Image.fromarray(label, mode='P')
            png.putpalette(palette)
            png.save(osp.join(dirs['SegmentationClass'], f'{image_id}.png'))

    image_only = [i for i in ids if i not in segmented]
    splits = {
        'ImageSets/Segmentation/train.txt': seg_train,
        'ImageSets/Segmentation/val.txt': seg_val,
        'ImageSets/Segmentation/trainval.txt': sorted(
            set(seg_train) | set(seg_val)),
        'ImageSets/Main/train.txt': sorted(set(ids) - set(seg_val)),
        'ImageSets/Main/val.txt': seg_val,
        'ImageSets/Main/trainval.txt': ids,
        # written last: ensure_toy_voc takes it as the sign of a complete
        # dataset
        'ImageSets/Main/test.txt': seg_test,
        'ImageSets/Segmentation/test.txt': seg_test,
    }
    for rel, lst in splits.items():
        with open(osp.join(root, rel), 'w') as f:
            f.write(''.join(f'{i}\n' for i in lst))
    return dict(seg_train=seg_train, seg_val=seg_val, seg_test=seg_test,
                image_only=image_only)


def ensure_toy_voc(root: str, **kwargs) -> Optional[dict]:
    """Write the toy VOC under ``root`` unless it is already complete.

    Args:
        root: The ``VOC2012``-level folder.
        **kwargs: Arguments of :func:`make_toy_voc`.

    Returns:
        The id lists if the data was written now, None if it existed.
    """
    if osp.isfile(osp.join(root, 'ImageSets', 'Segmentation', 'test.txt')):
        return None
    return make_toy_voc(root, overwrite=True, **kwargs)
