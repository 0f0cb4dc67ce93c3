"""What every toy world shares: the toy classes and the object records."""
from typing import List, Sequence, Tuple

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
