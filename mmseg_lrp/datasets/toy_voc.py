"""A small synthetic dataset in the exact PASCAL VOC 2012 layout.

It is the embedded default data of the project: the demo, the tests and the
toy experiments run on it, and mmseg's own ``PascalVOCDataset`` reads it
unchanged. Written files::

    {root}/JPEGImages/{id}.jpg                     every image
    {root}/SegmentationClass/{id}.png              palette PNG, VOC indices,
                                                   255 on object borders (only
                                                   for the segmentation ids)
    {root}/Annotations/{id}.xml                    VOC XML, every image
    {root}/ImageSets/Segmentation/{train,val,trainval}.txt
    {root}/ImageSets/Main/{train,val,trainval}.txt

Like real VOC, only part of the images are pixel-labelled (listed in
``ImageSets/Segmentation``); the others have a JPEG and an XML only, i.e.
image-level labels.

To make the task non-trivial the foreground classes share one colour palette
and differ by shape (and, loosely, by texture), objects occlude each other and
are cut by the image border, and the textured, cluttered background contains
distractor shapes of the same colours and textures that are labelled
background.
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple
from xml.etree import ElementTree as ET

import cv2
import numpy as np
from PIL import Image

# The 21 VOC classes, background first; indices are the mask values.
VOC_CLASSES: Tuple[str, ...] = (
    'background', 'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus',
    'car', 'cat', 'chair', 'cow', 'diningtable', 'dog', 'horse', 'motorbike',
    'person', 'pottedplant', 'sheep', 'sofa', 'train', 'tvmonitor')

# Foreground classes of the toy data: VOC class name -> shape.
TOY_SHAPES: Dict[str, str] = {
    'aeroplane': 'triangle',
    'bicycle': 'ring',
    'bird': 'ellipse',
    'car': 'bar',
    'cat': 'star',
    'person': 'cross',
}
TOY_CLASSES: Tuple[str, ...] = tuple(TOY_SHAPES)
DISTRACTOR_SHAPES = ('hexagon', 'polygon', 'crescent')
TEXTURES = ('stripes', 'checker', 'dots', 'blobs', 'gradient')
# Each class prefers one texture, drawn with this probability; otherwise any.
CLASS_TEXTURE = dict(zip(TOY_CLASSES, TEXTURES + ('stripes', )))
TEXTURE_BIAS = 0.8
BACKGROUND_CONTRAST = 0.35
# One palette shared by all classes and the background clutter.
COLOURS = np.array(
    [[200, 40, 40], [40, 170, 60], [50, 80, 210], [220, 200, 50],
     [160, 60, 190], [40, 190, 200], [230, 130, 40], [120, 120, 120],
     [235, 235, 235], [30, 30, 30]],
    dtype=np.float32)


def voc_palette() -> np.ndarray:
    """The 256-entry colour map of VOC's ``SegmentationClass`` PNGs."""
    palette = np.zeros((256, 3), dtype=np.uint8)
    for i in range(256):
        c, r, g, b = i, 0, 0, 0
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        palette[i] = (r, g, b)
    return palette


def _texture(rng: np.random.Generator, kind: str, h: int,
             w: int) -> np.ndarray:
    """An ``(h, w, 3)`` float image of a two-colour texture."""
    c1, c2 = COLOURS[rng.choice(len(COLOURS), 2, replace=False)]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    theta = rng.uniform(0, np.pi)
    u = xx * np.cos(theta) + yy * np.sin(theta)
    v = -xx * np.sin(theta) + yy * np.cos(theta)
    period = rng.uniform(5, 12)
    if kind == 'stripes':
        t = (np.sin(2 * np.pi * u / period) > 0).astype(np.float32)
    elif kind == 'checker':
        t = ((np.floor(u / period) + np.floor(v / period)) % 2).astype(
            np.float32)
    elif kind == 'dots':
        du = (u % period) - period / 2
        dv = (v % period) - period / 2
        t = (du**2 + dv**2 < (period * 0.3)**2).astype(np.float32)
    elif kind == 'blobs':
        small = rng.random((max(2, h // 8), max(2, w // 8)), dtype=np.float32)
        t = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
        t = (t > 0.5).astype(np.float32)
    elif kind == 'gradient':
        t = (u - u.min()) / max(float(np.ptp(u)), 1e-6)
    else:
        raise ValueError(f'unknown texture {kind!r}')
    return c1 * t[..., None] + c2 * (1 - t[..., None])


def _polygon(cx: float, cy: float, radii: Sequence[float],
             angle: float) -> np.ndarray:
    n = len(radii)
    a = angle + np.arange(n) * 2 * np.pi / n
    pts = np.stack([cx + np.asarray(radii) * np.cos(a),
                    cy + np.asarray(radii) * np.sin(a)], axis=1)
    return np.round(pts).astype(np.int32)


def _shape_mask(rng: np.random.Generator, shape: str, h: int, w: int,
                size: float) -> np.ndarray:
    """A boolean mask of one randomly placed, rotated shape."""
    m = np.zeros((h, w), dtype=np.uint8)
    cx, cy = rng.uniform(0.1 * w, 0.9 * w), rng.uniform(0.1 * h, 0.9 * h)
    r = size / 2
    ang = rng.uniform(0, 2 * np.pi)
    if shape == 'triangle':
        cv2.fillPoly(m, [_polygon(cx, cy, [r] * 3, ang)], 1)
    elif shape == 'ring':
        cv2.circle(m, (int(cx), int(cy)), int(r), 1, -1)
        cv2.circle(m, (int(cx), int(cy)), int(r * rng.uniform(0.45, 0.6)), 0,
                   -1)
    elif shape == 'ellipse':
        axes = (int(r), int(r * rng.uniform(0.45, 0.65)))
        cv2.ellipse(m, (int(cx), int(cy)), axes, np.degrees(ang), 0, 360, 1,
                    -1)
    elif shape == 'bar':
        box = ((cx, cy), (2 * r, 2 * r * rng.uniform(0.3, 0.45)),
               np.degrees(ang))
        cv2.fillPoly(m, [np.round(cv2.boxPoints(box)).astype(np.int32)], 1)
    elif shape == 'star':
        radii = [r, r * 0.42] * 5
        cv2.fillPoly(m, [_polygon(cx, cy, radii, ang)], 1)
    elif shape == 'cross':
        for a in (ang, ang + np.pi / 2):
            box = ((cx, cy), (2 * r, 2 * r * 0.3), np.degrees(a))
            cv2.fillPoly(m, [np.round(cv2.boxPoints(box)).astype(np.int32)],
                         1)
    elif shape == 'hexagon':
        cv2.fillPoly(m, [_polygon(cx, cy, [r] * 6, ang)], 1)
    elif shape == 'polygon':
        n = int(rng.integers(5, 8))
        cv2.fillPoly(m, [_polygon(cx, cy, rng.uniform(0.5, 1.0, n) * r, ang)],
                     1)
    elif shape == 'crescent':
        cv2.circle(m, (int(cx), int(cy)), int(r), 1, -1)
        off = r * 0.5
        cv2.circle(m, (int(cx + off * np.cos(ang)), int(cy + off * np.sin(ang))),
                   int(r * 0.85), 0, -1)
    else:
        raise ValueError(f'unknown shape {shape!r}')
    return m.astype(bool)


def render_sample(
        rng: np.random.Generator,
        h: int,
        w: int,
        max_objects: int = 4,
        max_distractors: int = 2,
        background_contrast: float = BACKGROUND_CONTRAST
) -> Tuple[np.ndarray, np.ndarray, List[dict]]:
    """Render one image, its label map and its objects.

    Args:
        rng: Random generator (all randomness comes from it).
        h: Image height.
        w: Image width.
        max_objects: Most foreground objects per image (at least one).
        max_distractors: Most distractor shapes (labelled background).
        background_contrast: Contrast of the background texture relative to
            the objects' (1 = same).

    Returns:
        tuple: ``(image, label, objects)`` with ``image`` an ``(h, w, 3)``
        uint8 RGB array, ``label`` an ``(h, w)`` uint8 map of VOC class
        indices with 255 on object borders, and ``objects`` a list of dicts
        ``name, bbox=(xmin, ymin, xmax, ymax), truncated`` (1-based VOC
        coordinates) for every object that stays visible.
    """
    # Background: a low-contrast texture (objects and distractors are full
    # contrast, so figure/ground is learnable but not trivial).
    img = _texture(rng, str(rng.choice(TEXTURES)), h, w)
    img = 0.5 * img + 0.5 * _texture(rng, 'blobs', h, w)
    img = img.mean((0, 1)) + background_contrast * (img - img.mean((0, 1)))
    for _ in range(int(rng.integers(2, 6))):
        p1 = tuple(int(v) for v in rng.integers(0, (w, h)))
        p2 = tuple(int(v) for v in rng.integers(0, (w, h)))
        colour = COLOURS[rng.integers(len(COLOURS))].tolist()
        cv2.line(img, p1, p2, colour, int(rng.integers(1, 4)))
    side = min(h, w)
    for _ in range(int(rng.integers(0, max_distractors + 1))):
        m = _shape_mask(rng, str(rng.choice(DISTRACTOR_SHAPES)), h, w,
                        rng.uniform(0.2, 0.45) * side)
        img[m] = _texture(rng, str(rng.choice(TEXTURES)), h, w)[m]

    # Foreground objects, later ones occluding earlier ones.
    label = np.zeros((h, w), dtype=np.uint8)
    instance = np.full((h, w), -1, dtype=np.int32)
    drawn = []
    for i in range(int(rng.integers(1, max_objects + 1))):
        name = str(rng.choice(TOY_CLASSES))
        m = _shape_mask(rng, TOY_SHAPES[name], h, w,
                        rng.uniform(0.35, 0.7) * side)
        if m.sum() < 20:
            continue
        kind = (CLASS_TEXTURE[name] if rng.random() < TEXTURE_BIAS else str(
            rng.choice(TEXTURES)))
        img[m] = _texture(rng, kind, h, w)[m]
        label[m] = VOC_CLASSES.index(name)
        instance[m] = i
        drawn.append((i, name))

    # VOC marks a band around every object (and between touching objects)
    # as 255 ("void"); here 1 px on each side of every instance boundary.
    kernel = np.ones((3, 3), np.uint8)
    inst = (instance + 1).astype(np.uint16)
    border = cv2.dilate(inst, kernel) != cv2.erode(inst, kernel)
    label[border] = 255

    objects = []
    for i, name in drawn:
        ys, xs = np.nonzero(instance == i)
        if len(ys) == 0:  # wholly hidden by later objects: not in the XML
            continue
        x0, y0, x1, y1 = xs.min(), ys.min(), xs.max(), ys.max()
        objects.append(
            dict(name=name, bbox=(int(x0) + 1, int(y0) + 1, int(x1) + 1,
                                  int(y1) + 1),
                 truncated=int(x0 == 0 or y0 == 0 or x1 == w - 1
                               or y1 == h - 1)))

    img += rng.normal(0, 8, img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8), label, objects


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
                 num_images: int = 360,
                 num_seg_train: int = 120,
                 num_seg_val: int = 80,
                 size_range: Tuple[int, int] = (96, 128),
                 max_objects: int = 4,
                 max_distractors: int = 2,
                 background_contrast: float = BACKGROUND_CONTRAST,
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
        size_range: Inclusive range of image height and width (each drawn
            independently, so most images are not square).
        max_objects: Most foreground objects per image.
        max_distractors: Most distractor shapes per image.
        background_contrast: Contrast of the background texture relative to
            the objects' (lower is easier).
        seed: Random seed; the same seed writes the same files.
        overwrite: Allow writing into a folder that already holds images.
        progress: Show a progress bar.

    Returns:
        dict: The written id lists, keys ``seg_train``, ``seg_val``,
        ``image_only``.
    """
    if num_seg_train + num_seg_val > num_images:
        raise ValueError(
            f'num_seg_train + num_seg_val = {num_seg_train + num_seg_val} '
            f'exceeds num_images = {num_images}')
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
    # A separate stream decides the splits, so changing the number of images
    # does not reshuffle which earlier images are pixel-labelled.
    order = np.random.default_rng([seed, 1]).permutation(num_images)
    seg_train = sorted(ids[i] for i in order[:num_seg_train])
    seg_val = sorted(ids[i]
                     for i in order[num_seg_train:num_seg_train + num_seg_val])
    segmented = set(seg_train) | set(seg_val)
    palette = voc_palette().flatten().tolist()

    iterator = ids
    if progress:
        from mmengine.utils import track_iter_progress
        iterator = track_iter_progress(ids)
    for n, image_id in enumerate(iterator):
        rng = np.random.default_rng([seed, 0, n])
        h, w = (int(v) for v in rng.integers(size_range[0], size_range[1] + 1,
                                             size=2))
        img, label, objects = render_sample(rng, h, w, max_objects,
                                           max_distractors,
                                           background_contrast)
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
        'ImageSets/Segmentation/trainval.txt': sorted(segmented),
        'ImageSets/Main/train.txt': sorted(set(ids) - set(seg_val)),
        'ImageSets/Main/val.txt': seg_val,
        'ImageSets/Main/trainval.txt': ids,
    }
    for rel, lst in splits.items():
        with open(osp.join(root, rel), 'w') as f:
            f.write(''.join(f'{i}\n' for i in lst))
    return dict(seg_train=seg_train, seg_val=seg_val, image_only=image_only)


def read_voc_xml_names(xml_path: str) -> List[str]:
    """Object class names of a VOC annotation XML (in file order).

    Args:
        xml_path: Path of the XML file.

    Returns:
        The ``object/name`` texts.
    """
    try:
        tree = ET.parse(xml_path)
    except ET.ParseError as e:
        raise ValueError(f'{xml_path}: not a valid VOC XML ({e})') from e
    return [o.findtext('name', '').strip() for o in tree.iter('object')]


def ensure_toy_voc(root: str, **kwargs) -> Optional[dict]:
    """Write the toy VOC under ``root`` unless it is already complete.

    Args:
        root: The ``VOC2012``-level folder.
        **kwargs: Arguments of :func:`make_toy_voc`.

    Returns:
        The id lists if the data was written now, None if it existed.
    """
    if osp.isfile(osp.join(root, 'ImageSets', 'Segmentation', 'val.txt')):
        return None
    return make_toy_voc(root, overwrite=True, **kwargs)
