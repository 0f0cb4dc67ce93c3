"""The ``photos`` toy worlds: objects and backgrounds cut from photographs.

Material: the photographs that scikit-image ships in its wheel
(``skimage.data``; no download), split into two disjoint sets.

- **Objects** of each class are one shape (VOC class -> shape below) filled
  with a patch of one class-specific photograph, turned grey and randomly
  tinted, so a class is told apart by its outline and its texture, not by
  its colour.
- **Distractors** are other shapes filled with patches of the background
  photographs, tinted the same way: labelled background and absent from the
  XML (as VOC's unlisted objects).
- **Backgrounds** are patches of other photographs (people, animals,
  objects, scenes) at random scale, slightly muted.
- **Held-out material**: every photograph is split at 3/4 of its height;
  training images cut their patches from the top part, val and test images
  from the bottom part, so a val / test score measures how a model
  generalises to texture it has not seen.
- VOC's 255 band on every object border, as in the other worlds.

Two configurations are registered: ``photos`` (1-3 large objects, at most
one distractor) and ``photos-clutter`` (1-4 small objects among 2-4
distractors), the latter with other statistics: smaller objects, more of
them, more clutter.
"""
from functools import lru_cache
from typing import Dict, List, Tuple

import cv2
import numpy as np

from .common import TOY_CLASSES, World, instance_border

# Foreground classes: VOC class name -> (shape, texture photograph).
PHOTO_CLASSES: Dict[str, Tuple[str, str]] = dict(
    zip(TOY_CLASSES, (
        ('ellipse', 'brick'),
        ('bar', 'grass'),
        ('triangle', 'gravel'),
        ('star', 'coins'),
        ('cross', 'moon'),
        ('ring', 'text'),
    )))
DISTRACTOR_SHAPES = ('hexagon', 'diamond', 'crescent')
BACKGROUND_PHOTOS = ('astronaut', 'chelsea', 'coffee', 'rocket',
                     'motorcycle_left', 'camera', 'immunohistochemistry',
                     'retina', 'hubble_deep_field', 'page')
# Fraction of each photograph's height cut by training images (top); val and
# test images cut from the rest.
TRAIN_PART = 0.75


@lru_cache(maxsize=None)
def _photo(name: str) -> np.ndarray:
    """``(h, w, 3)`` float32 RGB of a photograph bundled with scikit-image."""
    try:
        from skimage import data
    except ImportError as e:  # optional dependency of the toy data only
        raise ImportError(
            "the 'photos' toy worlds cut scikit-image's bundled photographs: "
            'pip install scikit-image (or mmseg_lrp[toy])') from e
    if name == 'motorcycle_left':
        img = data.stereo_motorcycle()[0]
    else:
        img = getattr(data, name)()
    img = np.asarray(img, dtype=np.float32)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    img = img[..., :3]
    if img.max() <= 1.0:
        img = img * 255.0
    return img


def _shape_mask(rng: np.random.Generator, shape: str, s: int) -> np.ndarray:
    """A ``(s, s)`` float mask in [0, 1] of ``shape``, randomly rotated and
    stretched, anti-aliased (drawn at 4x and downsampled)."""
    big = 4 * s
    c = big / 2
    r = big * 0.42
    canvas = np.zeros((big, big), np.uint8)

    def poly(pts):
        cv2.fillPoly(canvas, [np.round(pts).astype(np.int32)], 255)

    def ring_points(n, radius, phase=0.0):
        t = phase + 2 * np.pi * np.arange(n) / n
        return np.stack([c + radius * np.cos(t), c + radius * np.sin(t)], 1)

    if shape == 'ellipse':
        cv2.ellipse(canvas, (int(c), int(c)), (int(r), int(r * 0.6)), 0, 0,
                    360, 255, -1)
    elif shape == 'bar':
        poly([[c - r, c - r * 0.35], [c + r, c - r * 0.35],
              [c + r, c + r * 0.35], [c - r, c + r * 0.35]])
    elif shape == 'triangle':
        poly(ring_points(3, r, -np.pi / 2))
    elif shape == 'star':
        outer, inner = ring_points(5, r, -np.pi / 2), ring_points(
            5, r * 0.45, -np.pi / 2 + np.pi / 5)
        poly(np.stack([outer, inner], 1).reshape(-1, 2))
    elif shape == 'cross':
        w = r * 0.33
        poly([[c - r, c - w], [c + r, c - w], [c + r, c + w], [c - r, c + w]])
        poly([[c - w, c - r], [c + w, c - r], [c + w, c + r], [c - w, c + r]])
    elif shape == 'ring':
        cv2.circle(canvas, (int(c), int(c)), int(r), 255, -1)
        cv2.circle(canvas, (int(c), int(c)), int(r * 0.55), 0, -1)
    elif shape == 'hexagon':
        poly(ring_points(6, r))
    elif shape == 'diamond':
        poly([[c, c - r], [c + r * 0.6, c], [c, c + r], [c - r * 0.6, c]])
    elif shape == 'crescent':
        cv2.circle(canvas, (int(c), int(c)), int(r), 255, -1)
        cv2.circle(canvas, (int(c + r * 0.45), int(c)), int(r * 0.85), 0, -1)
    else:
        raise ValueError(f'unknown shape {shape!r}')
    angle = rng.uniform(0, 360)
    stretch = rng.uniform(0.8, 1.25)
    m = cv2.getRotationMatrix2D((c, c), angle, 1.0)
    m[:, :2] = m[:, :2] @ np.diag([stretch, 1 / stretch])
    m[:, 2] = np.array([c, c]) - m[:, :2] @ np.array([c, c])  # about c
    canvas = cv2.warpAffine(canvas, m, (big, big), flags=cv2.INTER_LINEAR)
    return cv2.resize(canvas.astype(np.float32) / 255.0, (s, s),
                      interpolation=cv2.INTER_AREA)


def _patch(rng: np.random.Generator, photo: np.ndarray, h: int, w: int,
           held_out: bool, scale: Tuple[float, float]) -> np.ndarray:
    """A random ``(h, w, 3)`` patch of ``photo`` from its training (top) or
    held-out (bottom) part, at a random scale."""
    ph, pw = photo.shape[:2]
    split = int(ph * TRAIN_PART)
    y_lo, y_hi = (split, ph) if held_out else (0, split)
    f = rng.uniform(*scale)  # photo pixels per output pixel
    ch = min(int(np.ceil(h * f)), y_hi - y_lo)
    cw = min(int(np.ceil(w * f)), pw)
    y = int(rng.integers(y_lo, y_hi - ch + 1))
    x = int(rng.integers(0, pw - cw + 1))
    crop = photo[y:y + ch, x:x + cw]
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    return cv2.resize(np.ascontiguousarray(crop), (w, h),
                      interpolation=cv2.INTER_AREA)


def _tint(rng: np.random.Generator, patch: np.ndarray) -> np.ndarray:
    """The patch's luminance, contrast-normalised, in a random colour."""
    grey = patch.mean(2)
    grey = (grey - grey.mean()) / (grey.std() + 1e-3)
    base = rng.uniform(40, 215, 3).astype(np.float32)
    gain = rng.uniform(25, 55)
    return base + gain * grey[..., None]


class PhotosWorld(World):
    """Shapes filled with photographed textures on photographed backgrounds.

    Args:
        max_objects: Most foreground objects per image (at least one).
        min_distractors: Fewest distractor shapes per image.
        max_distractors: Most distractor shapes per image.
        object_size: Range of an object's side as a fraction of the image's
            shorter side.
    """

    default_size = (72, 96)

    def __init__(self,
                 max_objects: int = 3,
                 min_distractors: int = 0,
                 max_distractors: int = 1,
                 object_size: Tuple[float, float] = (0.35, 0.6)) -> None:
        if not 1 <= max_objects or not 0 <= min_distractors <= \
                max_distractors:
            raise ValueError('need max_objects >= 1 and 0 <= '
                             'min_distractors <= max_distractors')
        self.max_objects = max_objects
        self.min_distractors = min_distractors
        self.max_distractors = max_distractors
        self.object_size = tuple(object_size)
        # load every photograph now: a missing one fails before any file
        for name in set(t for _, t in PHOTO_CLASSES.values()) | set(
                BACKGROUND_PHOTOS):
            _photo(name)

    def render(self, rng: np.random.Generator, h: int, w: int,
               val: bool = False) -> Tuple[np.ndarray, np.ndarray, List]:
        bg = _photo(str(rng.choice(BACKGROUND_PHOTOS)))
        img = _patch(rng, bg, h, w, val, (1.0, 4.0))
        grey = img.mean(2, keepdims=True)
        img = grey + rng.uniform(0.5, 0.9) * (img - grey)
        label = np.zeros((h, w), np.uint8)
        instance = np.full((h, w), -1, np.int32)
        taken = np.zeros((h, w), bool)
        n_obj = int(rng.integers(1, self.max_objects + 1))
        n_dis = int(
            rng.integers(self.min_distractors, self.max_distractors + 1))
        kinds = [str(rng.choice(self.classes)) for _ in range(n_obj)]
        kinds += [None] * n_dis
        side = min(h, w)
        drawn = []
        for i, name in enumerate(kinds):
            if name is None:
                shape = str(rng.choice(DISTRACTOR_SHAPES))
                photo = _photo(str(rng.choice(BACKGROUND_PHOTOS)))
            else:
                shape, texture = PHOTO_CLASSES[name]
                photo = _photo(texture)
            s = max(int(side * rng.uniform(*self.object_size)), 8)
            full = self.place(rng, _shape_mask(rng, shape, s), taken, h, w,
                              tries=12)
            if full is None:
                continue
            fill = _tint(rng, _patch(rng, photo, h, w, val, (0.7, 2.0)))
            alpha = full[..., None]
            img = alpha * fill + (1 - alpha) * img
            self.mark(full > 0.5, name, int(i), label, instance, taken, drawn)
        label[instance_border(instance)] = 255
        img = img + rng.normal(0, 4, img.shape).astype(np.float32)
        objects = self.objects(instance, drawn, h, w)
        return np.clip(img, 0, 255).astype(np.uint8), label, objects


class PhotosClutterWorld(PhotosWorld):
    """The ``photos`` material with other statistics: 1-4 small objects
    (20-35 % of the shorter side) among 2-4 distractors, on 80-104 px
    images."""

    default_size = (80, 104)

    def __init__(self,
                 max_objects: int = 4,
                 min_distractors: int = 2,
                 max_distractors: int = 4,
                 object_size: Tuple[float, float] = (0.2, 0.35)) -> None:
        super().__init__(max_objects, min_distractors, max_distractors,
                         object_size)
