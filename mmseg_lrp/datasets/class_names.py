"""Class lists of VOC-layout data: names in XMLs, values in masks.

A dataset's classes come from its config (``metainfo=dict(classes=...)``),
not from a fixed list: VOC 2012's 21, a subset of them (the toy world's 7),
or a user's own. Two things connect files to that list:

* XML object names (image-level labels) are matched by name, ignoring case
  and surrounding blanks (``Person`` is ``person``; the first such fix is
  logged with a hint).
* Mask pixel values are positions in ``mask_classes``: VOC 2012's 21 names
  by default (``SegmentationClass`` PNGs number VOC's classes whatever the
  config keeps), or the config's own list for data whose masks number it.

Objects of classes the config does not list would otherwise vanish without
a word (dropped from image labels, set to 255 in masks): they are counted
and, by ``unlisted_classes``, refused (default), logged or ignored.
"""
import difflib
import logging
import shlex
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.logging import print_log
from mmseg.datasets import PascalVOCDataset

VOC_CLASSES = tuple(PascalVOCDataset.METAINFO['classes'])
UNLISTED_POLICIES = ('error', 'warn', 'ignore')


class UnlistedClassError(ValueError):
    """The data holds objects of classes that the config does not list."""


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


def check_policy(unlisted_classes: str) -> str:
    """Return ``unlisted_classes`` if it is a known policy, else raise."""
    if unlisted_classes not in UNLISTED_POLICIES:
        raise ValueError(f'unlisted_classes={unlisted_classes!r}; expected '
                         f'one of {UNLISTED_POLICIES}')
    return unlisted_classes


def mask_label_map(classes: Sequence[str],
                   mask_classes: Sequence[str]) -> Optional[Dict[int, int]]:
    """mmseg's ``label_map`` from mask values to positions in ``classes``.

    Args:
        classes: The dataset's classes (the model's outputs, in order).
        mask_classes: The class of each mask value ``0 .. N-1``.

    Returns:
        ``{mask value: class index or 255}``, or None where both lists are
        equal (masks already number ``classes``).

    Raises:
        ValueError: A class is missing from ``mask_classes`` (its pixels
            could never be labelled).
    """
    classes, mask_classes = list(classes), list(mask_classes)
    if classes == mask_classes:
        return None
    missing = [c for c in classes if c not in mask_classes]
    if missing:
        raise ValueError(
            f'classes {missing} are not in mask_classes {mask_classes}: no '
            'mask value stands for them. If your masks number your own '
            'class list, set mask_classes to that list (tools: --classes '
            '... --mask-values listed)')
    return {v: classes.index(c) if c in classes else 255
            for v, c in enumerate(mask_classes)}


def class_palette(classes: Sequence[str], mask_classes: Sequence[str],
                  palette: Optional[Sequence] = None) -> List[List[int]]:
    """Colours of the classes.

    Args:
        classes: The dataset's classes.
        mask_classes: The class of each mask value.
        palette: The config's palette, used if it has one colour per class.

    Returns:
        One RGB triple per class: ``palette``, else the VOC colour of each
        class's mask value (the colour its pixels have in a VOC palette PNG).
    """
    if palette is not None and len(palette) == len(classes):
        return [list(map(int, c)) for c in palette]
    colours = voc_palette()
    return [colours[list(mask_classes).index(c) % 256].tolist()
            for c in classes]


class ClassTally:
    """Matches names against a class list and counts what it leaves out.

    Args:
        classes: The config's classes.
        source: What is read (for messages), e.g. a dataset or a folder.
        unlisted_classes: ``'error'``, ``'warn'`` or ``'ignore'``: what
            :meth:`report` does about objects of classes not in ``classes``.
        note: Appended to the message about unlisted classes (e.g. how the
            mask values were read).
    """

    def __init__(self, classes: Sequence[str], source: str,
                 unlisted_classes: str = 'error', note: str = '') -> None:
        self.classes = list(classes)
        self.source = source
        self.note = note
        self.policy = check_policy(unlisted_classes)
        self._exact = {c: i for i, c in enumerate(self.classes)}
        self._folded: Dict[str, int] = {}
        for i, c in enumerate(self.classes):
            self._folded.setdefault(c.strip().casefold(), i)
        self.case_fixes: Dict[str, str] = {}  # raw name -> 'class (file)'
        self.unlisted: Dict[str, set] = defaultdict(set)  # name -> ids
        self.examples: Dict[str, str] = {}  # name -> first file

    def index(self, name: str, image_id: str, path: str) -> Optional[int]:
        """Index of ``name`` in the classes (None if unlisted, counted).

        Args:
            name: An object name from ``path``.
            image_id: The image it belongs to.
            path: The file it was read from (for messages).

        Returns:
            The class index, or None for a class the config does not list.
        """
        if name in self._exact:
            return self._exact[name]
        k = self._folded.get(name.strip().casefold())
        if k is not None:
            self.case_fixes.setdefault(
                name, f'{self.classes[k]!r} (first in {path})')
            return k
        self.count_unlisted(name, image_id, path)
        return None

    def count_unlisted(self, name: str, image_id: str, path: str) -> None:
        """Count one image holding an object of unlisted class ``name``."""
        self.unlisted[name].add(image_id)
        self.examples.setdefault(name, path)

    def report(self) -> None:
        """Log name fixes; refuse or log unlisted classes (by the policy).

        Raises:
            UnlistedClassError: With ``unlisted_classes='error'``, naming
                each class, how many images hold it and one file.
        """
        if self.case_fixes:
            fixes = ', '.join(f'{raw!r} -> {c}'
                              for raw, c in self.case_fixes.items())
            print_log(
                f'{self.source}: class names matched ignoring case/blanks: '
                f'{fixes}. Fix the files or the config\'s classes to make '
                'the names agree exactly.', logger='current',
                level=logging.WARNING)
        if not self.unlisted or self.policy == 'ignore':
            return

        def close(name: str) -> str:
            near = difflib.get_close_matches(name.casefold(), [
                c.casefold() for c in self.classes], n=1, cutoff=0.75)
            return f' (close to the listed {near[0]!r})' if near else ''

        found = '; '.join(
            f'{name!r} in {len(ids)} image(s), e.g. {self.examples[name]}'
            f'{close(name)}'
            for name, ids in sorted(self.unlisted.items(),
                                    key=lambda kv: -len(kv[1])))
        every = ' '.join(
            map(shlex.quote, self.classes + sorted(self.unlisted)))
        msg = (f'{self.source}: the data holds objects of classes that the '
               f'config does not list ({found}). The config\'s classes: '
               f'{self.classes}. Their objects would be dropped from the '
               'labels (pixels ignored). List every class of your data (in '
               'the order of the mask values where your masks number your '
               f'own list), e.g. tools/train.py CONFIG --classes {every}; '
               'or leave them out on purpose: --unlisted-classes warn (or '
               'ignore; in a config, the dataset option unlisted_classes).'
               f'{self.note}')
        if self.policy == 'error':
            raise UnlistedClassError(msg)
        print_log(msg, logger='current', level=logging.WARNING)


class ConfigClassesMixin:
    """Classes from the config for mmseg's VOC-layout datasets.

    Replaces mmseg's class-level ``get_label_map`` (which only knows
    ``METAINFO``'s 21 VOC names and refuses any other) by one from
    ``mask_classes``, and colours classes by their mask value. Call
    :meth:`_init_classes` before ``BaseSegDataset.__init__``.
    """

    def _init_classes(self, mask_classes: Optional[Sequence[str]],
                      unlisted_classes: str) -> None:
        self.mask_classes = list(
            VOC_CLASSES if mask_classes is None else mask_classes)
        if len(set(self.mask_classes)) != len(self.mask_classes):
            raise ValueError(
                f'{type(self).__name__}: mask_classes lists a name twice: '
                f'{self.mask_classes}')
        self.unlisted_classes = check_policy(unlisted_classes)

    def get_label_map(self, new_classes: Optional[Sequence[str]] = None
                      ) -> Optional[Dict[int, int]]:
        """Mask values -> class indices (None if the masks number them)."""
        try:
            return mask_label_map(new_classes or self.mask_classes,
                                  self.mask_classes)
        except ValueError as e:
            raise ValueError(f'{type(self).__name__} (data_root '
                             f'{self.data_root}): {e}') from None

    def _update_palette(self) -> list:
        return class_palette(self._metainfo['classes'], self.mask_classes,
                             self._metainfo.get('palette'))

    def _tally(self, note: str = '') -> ClassTally:
        """A :class:`ClassTally` of this dataset's classes and policy."""
        return ClassTally(self.metainfo['classes'],
                          f'{type(self).__name__} ({self.data_root})',
                          self.unlisted_classes, note)
