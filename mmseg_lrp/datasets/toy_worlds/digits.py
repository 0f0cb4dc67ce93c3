"""The ``digits`` toy world: handwritten digits as objects.

Each foreground class is one handwritten digit, drawn from scikit-learn's
bundled UCI digits (1797 scans of 8x8 pixels by 43 writers), upsampled into a
smooth glyph of 30-55 % of the image side, randomly rotated, sheared and
stretched, and filled with a colour of a palette that all classes share. The
object's mask is the glyph, so a class is told apart by the shape of its
strokes alone. Other digits appear as distractors: same material, labelled
background and missing from the XML (as VOC's unlisted objects), so finding
the objects already needs to know the classes. The background is a smooth,
muted colour field with a few thin lines.

Val images take their digits from held-out scans (every fifth scan of the
file: 360 of 1797, 15-26 % of each digit's), which no training image shows,
so a val score measures how a model generalises, not how well it remembers
glyphs.
"""
from typing import List, Tuple

import cv2
import numpy as np

from .common import TOY_CLASSES, World, instance_border

# Foreground classes: VOC class name -> the digit drawn for it. The names
# keep the VOC 2012 layout and label indices; the digits are chosen to look
# unlike each other (no 5/6/8/9, the pairs handwriting most often confuses).
DIGIT_CLASSES = dict(zip(TOY_CLASSES, (0, 1, 2, 3, 4, 7)))
DISTRACTOR_DIGITS = (5, 6, 8, 9)
# Every HELD_OUT-th scan of the file is reserved for the val images.
HELD_OUT = 5
# Saturated object colours and muted background colours (RGB).
OBJECT_COLOURS = np.array(
    [[220, 40, 40], [40, 170, 60], [50, 80, 220], [230, 200, 40],
     [170, 60, 200], [30, 190, 200], [240, 130, 30], [245, 245, 245],
     [25, 25, 25]],
    dtype=np.float32)


def _load_digits() -> Tuple[np.ndarray, np.ndarray]:
    try:
        from sklearn.datasets import load_digits
    except ImportError as e:  # optional dependency of the toy data only
        raise ImportError(
            "the 'digits' toy world draws scikit-learn's bundled handwritten "
            'digits: pip install scikit-learn (or mmseg_lrp[toy]), or '
            "generate the 'shapes' world instead") from e
    digits = load_digits()
    return digits.images.astype(np.float32) / 16.0, digits.target


class DigitsWorld(World):
    """Handwritten digits on a muted background.

    Args:
        max_objects: Most foreground digits per image (at least one).
        max_distractors: Most distractor digits per image.
    """

    default_size = (64, 80)

    def __init__(self, max_objects: int = 3,
                 max_distractors: int = 1) -> None:
        self.max_objects = max_objects
        self.max_distractors = max_distractors
        images, target = _load_digits()
        index = np.arange(len(target))
        held_out = index % HELD_OUT == 0
        # scans per digit and split: {(digit, is_val): array of 8x8 images}
        self.scans = {(d, v): images[(target == d) & (held_out == v)]
                      for d in range(10) for v in (False, True)}

    def _glyph(self, rng: np.random.Generator, digit: int, val: bool,
               side: int) -> np.ndarray:
        """A soft ``(s, s)`` glyph in [0, 1] of a random scan of ``digit``,
        about ``side`` pixels high, randomly rotated, sheared and stretched."""
        scans = self.scans[(digit, val)]
        scan = scans[rng.integers(len(scans))]
        scan = np.pad(scan, 2)  # room for the strokes to fade out
        big = cv2.resize(scan, (side * 12 // 8, side * 12 // 8),
                         interpolation=cv2.INTER_CUBIC)
        s = big.shape[0]
        angle = np.radians(rng.uniform(-20, 20))
        shear = rng.uniform(-0.2, 0.2)
        stretch = rng.uniform(0.85, 1.15)
        a = np.array([[np.cos(angle), -np.sin(angle)],
                      [np.sin(angle), np.cos(angle)]]) @ np.array(
                          [[stretch, shear], [0, 1 / stretch]])
        centre = np.array([s / 2, s / 2])
        m = np.hstack([a, (centre - a @ centre)[:, None]]).astype(np.float32)
        return np.clip(cv2.warpAffine(big, m, (s, s),
                                      flags=cv2.INTER_LINEAR), 0, 1)

    def _background(self, rng: np.random.Generator, h: int,
                    w: int) -> np.ndarray:
        base = rng.uniform(70, 190, 3).astype(np.float32)
        coarse = rng.normal(0, 30, (3, 3, 3)).astype(np.float32)
        img = base + cv2.resize(coarse, (w, h),
                                interpolation=cv2.INTER_CUBIC)
        grey = img.mean(2, keepdims=True)
        img = grey + 0.5 * (img - grey)  # muted: objects are saturated
        for _ in range(int(rng.integers(0, 3))):
            p1 = tuple(int(v) for v in rng.integers(0, (w, h)))
            p2 = tuple(int(v) for v in rng.integers(0, (w, h)))
            colour = (base + rng.normal(0, 40, 3)).tolist()
            cv2.line(img, p1, p2, colour, 1)
        return img

    def render(self, rng: np.random.Generator, h: int, w: int,
               val: bool = False) -> Tuple[np.ndarray, np.ndarray, List]:
        img = self._background(rng, h, w)
        side = min(h, w)
        label = np.zeros((h, w), dtype=np.uint8)
        instance = np.full((h, w), -1, dtype=np.int32)
        taken = np.zeros((h, w), dtype=bool)
        n_obj = int(rng.integers(1, self.max_objects + 1))
        n_dis = int(rng.integers(0, self.max_distractors + 1))
        # objects first (the image is empty then, so the first one always
        # finds room), then the distractors between them
        kinds = [str(rng.choice(self.classes)) for _ in range(n_obj)]
        kinds += [None] * n_dis
        drawn = []
        for i, name in enumerate(kinds):
            digit = (DIGIT_CLASSES[name] if name is not None else int(
                rng.choice(DISTRACTOR_DIGITS)))
            glyph = self._glyph(rng, digit, val,
                                int(side * rng.uniform(0.3, 0.55)))
            full = self.place(rng, glyph, taken, h, w, tries=10)
            if full is None:
                continue
            colour = OBJECT_COLOURS[rng.integers(len(OBJECT_COLOURS))]
            alpha = np.clip((full - 0.3) / 0.4, 0, 1)[..., None]
            img = alpha * colour + (1 - alpha) * img
            self.mark(full > 0.5, name, int(i), label, instance, taken, drawn)
        label[instance_border(instance)] = 255
        img += rng.normal(0, 6, img.shape).astype(np.float32)
        objects = self.objects(instance, drawn, h, w)
        return np.clip(img, 0, 255).astype(np.uint8), label, objects
