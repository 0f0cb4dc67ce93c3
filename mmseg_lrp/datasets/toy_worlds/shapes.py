"""The ``shapes`` toy world: geometric shapes in clutter (hard on purpose).

The foreground classes share one colour palette and differ by shape (and,
loosely, by texture); objects occlude each other and are cut by the image
border, and the textured, cluttered background contains distractor shapes of
the same colours and textures that are labelled background. A small
classifier trained from scratch on a few thousand such images stays near
chance in CPU minutes; the ``digits`` world is the learnable default.
"""
from typing import List, Sequence, Tuple

import cv2
import numpy as np

from .common import TOY_CLASSES, World, instance_border

# Foreground classes: VOC class name -> shape.
TOY_SHAPES = {
    'aeroplane': 'triangle',
    'bicycle': 'ring',
    'bird': 'ellipse',
    'car': 'bar',
    'cat': 'star',
    'person': 'cross',
}
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
        centre = (int(cx + off * np.cos(ang)), int(cy + off * np.sin(ang)))
        cv2.circle(m, centre, int(r * 0.85), 0, -1)
    else:
        raise ValueError(f'unknown shape {shape!r}')
    return m.astype(bool)


class ShapesWorld(World):
    """Geometric shapes, shared palette and textures, distractors, clutter.

    Args:
        max_objects: Most foreground objects per image (at least one).
        max_distractors: Most distractor shapes (labelled background).
        background_contrast: Contrast of the background texture relative to
            the objects' (1 = same; lower is easier).
    """

    default_size = (96, 128)

    def __init__(self, max_objects: int = 4, max_distractors: int = 2,
                 background_contrast: float = BACKGROUND_CONTRAST) -> None:
        self.max_objects = max_objects
        self.max_distractors = max_distractors
        self.background_contrast = background_contrast

    def render(self, rng: np.random.Generator, h: int, w: int,
               val: bool = False) -> Tuple[np.ndarray, np.ndarray, List]:
        # Background: a low-contrast texture (objects and distractors are
        # full contrast, so figure/ground is learnable but not trivial).
        img = _texture(rng, str(rng.choice(TEXTURES)), h, w)
        img = 0.5 * img + 0.5 * _texture(rng, 'blobs', h, w)
        img = img.mean((0, 1)) + self.background_contrast * (
            img - img.mean((0, 1)))
        for _ in range(int(rng.integers(2, 6))):
            p1 = tuple(int(v) for v in rng.integers(0, (w, h)))
            p2 = tuple(int(v) for v in rng.integers(0, (w, h)))
            colour = COLOURS[rng.integers(len(COLOURS))].tolist()
            cv2.line(img, p1, p2, colour, int(rng.integers(1, 4)))
        side = min(h, w)
        for _ in range(int(rng.integers(0, self.max_distractors + 1))):
            m = _shape_mask(rng, str(rng.choice(DISTRACTOR_SHAPES)), h, w,
                            rng.uniform(0.2, 0.45) * side)
            img[m] = _texture(rng, str(rng.choice(TEXTURES)), h, w)[m]

        # Foreground objects, later ones occluding earlier ones.
        label = np.zeros((h, w), dtype=np.uint8)
        instance = np.full((h, w), -1, dtype=np.int32)
        drawn = []
        for i in range(int(rng.integers(1, self.max_objects + 1))):
            name = str(rng.choice(TOY_CLASSES))
            m = _shape_mask(rng, TOY_SHAPES[name], h, w,
                            rng.uniform(0.35, 0.7) * side)
            if m.sum() < 20:
                continue
            kind = (CLASS_TEXTURE[name] if rng.random() < TEXTURE_BIAS else
                    str(rng.choice(TEXTURES)))
            img[m] = _texture(rng, kind, h, w)[m]
            label[m] = self.voc_index(name)
            instance[m] = i
            drawn.append((i, name))
        label[instance_border(instance)] = 255
        objects = self.objects(instance, drawn, h, w)
        img += rng.normal(0, 8, img.shape).astype(np.float32)
        return np.clip(img, 0, 255).astype(np.uint8), label, objects
