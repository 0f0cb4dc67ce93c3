"""What every toy world shares: the toy classes and the object records."""
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

from ..class_names import VOC_CLASSES  # indices are the mask values

# The foreground classes of every toy world (so one config's class list
# fits all of them): K = 7 with background.
TOY_CLASSES: Tuple[str, ...] = ('aeroplane', 'bicycle', 'bird', 'car', 'cat',
                                'person')


def instance_border(instance: np.ndarray) -> np.ndarray:
    """VOC's void band: 1 px on each side of every instance boundary
    (between an object and the background or another object).

    Args:
        instance: ``(h, w)`` int map, -1 for background, else instance id.

    Returns:
        Boolean ``(h, w)`` map of the border pixels.
    """
    kernel = np.ones((3, 3), np.uint8)
    inst = (instance + 1).astype(np.uint16)
    return cv2.dilate(inst, kernel) != cv2.erode(inst, kernel)


class World:
    """A generator of toy images in VOC's classes.

    Subclasses implement :meth:`render`, drawing objects of the classes
    :data:`TOY_CLASSES`, and set :attr:`default_size`.
    """

    classes: Tuple[str, ...] = TOY_CLASSES
    # inclusive range of image height and width (px) if none is given
    default_size: Tuple[int, int] = (96, 128)

    @staticmethod
    def voc_index(name: str) -> int:
        return VOC_CLASSES.index(name)

    def render(self, rng: np.random.Generator, h: int, w: int,
               val: bool = False) -> Tuple[np.ndarray, np.ndarray, List]:
        """Render one image.

        Args:
            rng: Random generator (all randomness comes from it).
            h: Image height.
            w: Image width.
            val: Whether the image is a validation image (a world may keep
                material apart for those).

        Returns:
            tuple: ``(image, label, objects)``: an ``(h, w, 3)`` uint8 RGB
            array, an ``(h, w)`` uint8 map of VOC class indices with 255 on
            object borders, and a list of dicts ``name, bbox=(xmin, ymin,
            xmax, ymax), truncated`` (1-based VOC coordinates) for every
            object that stays visible.
        """
        raise NotImplementedError

    @staticmethod
    def place(rng: np.random.Generator, mask: np.ndarray, taken: np.ndarray,
              h: int, w: int, tries: int = 10) -> Optional[np.ndarray]:
        """Paste a soft ``(s, s)`` object mask into an ``(h, w)`` image at
        a random position where it stays mostly inside (at least 60 % of
        its area) and overlaps what is ``taken`` by at most a tenth.

        Args:
            rng: Random generator.
            mask: ``(s, s)`` float mask in [0, 1]; > 0.5 is the object.
            taken: ``(h, w)`` bool map of the pixels already covered.
            h: Image height.
            w: Image width.
            tries: Positions to draw before giving up.

        Returns:
            The ``(h, w)`` float mask at its place, or None.
        """
        s = mask.shape[0]
        area = max(int((mask > 0.5).sum()), 1)
        for _ in range(tries):
            y = int(rng.integers(-s // 4, h - 3 * s // 4 + 1))
            x = int(rng.integers(-s // 4, w - 3 * s // 4 + 1))
            full = np.zeros((h, w), dtype=np.float32)
            y0, x0 = max(y, 0), max(x, 0)
            y1, x1 = min(y + s, h), min(x + s, w)
            full[y0:y1, x0:x1] = mask[y0 - y:y1 - y, x0 - x:x1 - x]
            m = full > 0.5
            if m.sum() < 0.6 * area:  # mostly outside the image
                continue
            if (m & taken).sum() <= 0.1 * area:
                return full
        return None

    def mark(self, m: np.ndarray, name: Optional[str], i: int,
             label: np.ndarray, instance: np.ndarray, taken: np.ndarray,
             drawn: List[Tuple[int, str]]) -> None:
        """Record a pasted object's pixels ``m`` (in place): taken, and
        labelled as class ``name`` / instance ``i`` (appended to ``drawn``),
        or, for a distractor (``name`` None), as background and left out of
        the XML."""
        taken |= m
        if name is None:
            label[m] = 0
            instance[m] = -1
            return
        label[m] = self.voc_index(name)
        instance[m] = i
        drawn.append((i, name))

    @staticmethod
    def objects(instance: np.ndarray, drawn: Sequence[Tuple[int, str]],
                h: int, w: int) -> List[dict]:
        """VOC object records of the instances still visible in
        ``instance`` (wholly hidden ones are left out, as in VOC's XMLs)."""
        objects = []
        for i, name in drawn:
            ys, xs = np.nonzero(instance == i)
            if len(ys) == 0:
                continue
            x0, y0, x1, y1 = xs.min(), ys.min(), xs.max(), ys.max()
            objects.append(
                dict(name=name,
                     bbox=(int(x0) + 1, int(y0) + 1, int(x1) + 1,
                           int(y1) + 1),
                     truncated=int(x0 == 0 or y0 == 0 or x1 == w - 1
                                   or y1 == h - 1)))
        return objects
