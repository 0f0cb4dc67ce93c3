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
and, by ``unlisted_classes``, refused (default), logged or ignored. The
refusal suggests a ``--classes`` line that fits the data: it reads the masks
next to their XMLs (:func:`read_mask_evidence`) to tell whether mask values
are VOC 2012 indices or positions in the data's own list, and in which
order (:func:`guess_mask_numbering`); where the data cannot tell, it says so
instead of guessing.
"""
import difflib
import logging
import os
import os.path as osp
import shlex
from collections import Counter, defaultdict
from typing import (Callable, Dict, FrozenSet, List, NamedTuple, Optional,
                    Sequence, Tuple)

import numpy as np
from mmengine.logging import print_log
from mmseg.datasets import PascalVOCDataset

VOC_CLASSES = tuple(PascalVOCDataset.METAINFO['classes'])
UNLISTED_POLICIES = ('error', 'warn', 'ignore')


class UnlistedClassError(ValueError):
    """The data holds objects of classes that the config does not list."""


MASK_SAMPLE = 1000  # most masks read to tell how the masks number classes


class MaskEvidence(NamedTuple):
    """Masks next to the XML names of their images.

    Attributes:
        pairs: Per image with both, ``(object mask values, XML names)``:
            the mask's values other than 0 and ignore, and its XML's class
            names (folded: stripped, case-folded).
        spelling: Folded name -> the name as first written.
        folder: The mask folder.
        reason: Why there are no pairs ('' where there are).
    """
    pairs: List[Tuple[FrozenSet[int], FrozenSet[str]]]
    spelling: Dict[str, str]
    folder: str
    reason: str = ''


def _fold(name: str) -> str:
    return name.strip().casefold()


def read_mask_evidence(mask_dir: str,
                       ann_dir: str,
                       suffix: str = '.png',
                       labels: Optional[Dict[str, Sequence[str]]] = None,
                       ignore_index: int = 255,
                       reduce_zero_label: bool = False,
                       limit: int = MASK_SAMPLE) -> MaskEvidence:
    """Read masks and the class names of the same images' XMLs.

    Args:
        mask_dir: The mask folder (``SegmentationClass``).
        ann_dir: The XML folder (``Annotations``).
        suffix: Mask file suffix.
        labels: Known ``{id: [class names]}`` (a label cache), used before
            the XML.
        ignore_index: The mask's ignore value.
        reduce_zero_label: Masks whose 0 means ignore (then nothing is
            read: the tools cannot set that).
        limit: Most masks read (evenly spaced over the sorted ids).

    Returns:
        The :class:`MaskEvidence`.
    """
    from PIL import Image

    from .voc_labels import read_voc_xml_names
    if reduce_zero_label:
        return MaskEvidence([], {}, mask_dir,
                            'masks with reduce_zero_label are not read')
    if not osp.isdir(mask_dir):
        return MaskEvidence([], {}, mask_dir, f'no mask folder {mask_dir}')
    ids = sorted(f[:-len(suffix)] for f in os.listdir(mask_dir)
                 if f.endswith(suffix))
    if not ids:
        return MaskEvidence([], {}, mask_dir, f'no mask in {mask_dir}')
    if len(ids) > limit:
        ids = [ids[k * len(ids) // limit] for k in range(limit)]
    pairs, spelling = [], {}
    for i in ids:
        if labels is not None and i in labels:
            names = list(labels[i])
        else:
            try:
                names = read_voc_xml_names(osp.join(ann_dir, f'{i}.xml'))
            except (OSError, ValueError):
                continue
        try:
            with Image.open(osp.join(mask_dir, i + suffix)) as im:
                mask = np.asarray(im)
        except (OSError, ValueError):
            continue
        if mask.ndim != 2:
            continue
        values = frozenset(int(v) for v in np.unique(mask)
                           if v not in (0, ignore_index))
        for n in names:
            spelling.setdefault(_fold(n), n.strip())
        pairs.append((values, frozenset(_fold(n) for n in names if n)))
    reason = '' if pairs else (f'no mask of {mask_dir} has an XML in '
                               f'{ann_dir}')
    return MaskEvidence(pairs, spelling, mask_dir, reason)


def guess_mask_numbering(evidence: MaskEvidence,
                         agree: float = 0.9
                         ) -> Tuple[str, Optional[List[str]], str]:
    """How the masks number classes, judged by the XML names of the same
    images.

    ``'voc'`` where the VOC 2012 class of (nearly) every object value is
    named in its image's XML; else ``'listed'`` where every value
    ``1 .. max`` goes with one XML name (most often, uniquely, and nearly
    every time), distinct per value; else ``'unknown'``.

    Args:
        evidence: From :func:`read_mask_evidence`.
        agree: Share of (image, value) pairs that must agree.

    Returns:
        ``(kind, names, detail)``: ``names`` (folded) of values ``1 ..
        max`` for ``'listed'``, else None; ``detail`` says what was seen.
    """
    if not evidence.pairs:
        return 'unknown', None, evidence.reason
    seen = [(v, names) for values, names in evidence.pairs
            for v in values]
    where = f'{len(evidence.pairs)} masks of {evidence.folder}'
    if not seen:
        return 'unknown', None, f'no object value in the {where}'
    voc = [_fold(c) for c in VOC_CLASSES]
    hits = sum(v < len(voc) and voc[v] in names for v, names in seen)
    if hits >= agree * len(seen):
        return 'voc', None, (
            f'the VOC class of {hits} of {len(seen)} object values in the '
            f'{where} is named in the image\'s XML')
    together: Dict[int, Counter] = defaultdict(Counter)
    count: Counter = Counter()
    for v, names in seen:
        together[v].update(names)
        count[v] += 1
    top = max(count)
    names, hits, unclear = [], 0, []
    for v in range(1, top + 1):
        best = together[v].most_common(2)
        if not best:
            unclear.append(f'{v} is in no mask')
            continue
        if len(best) > 1 and best[1][1] == best[0][1]:
            unclear.append(f'{v} goes with {best[0][0]!r} and '
                           f'{best[1][0]!r} alike')
            continue
        names.append(best[0][0])
        hits += best[0][1]
    if unclear:
        return 'unknown', None, (
            f'not VOC 2012 indices, and in the {where} value '
            + ', '.join(unclear))
    if hits < agree * len(seen) or len(set(names)) != len(names):
        return 'unknown', None, (
            f'neither VOC 2012 indices nor one XML name per value in the '
            f'{where}')
    return 'listed', names, (
        f'in the {where}, value ' + ', '.join(
            f'{v} goes with {n!r}' for v, n in enumerate(names, 1)))


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
        evidence: Returns the data's :class:`MaskEvidence`; called only to
            refuse unlisted classes, for a ``--classes`` line that fits how
            the masks number classes.
        xml_names: Every class name of the data's XMLs (or label cache),
            for that line.
    """

    def __init__(self, classes: Sequence[str], source: str,
                 unlisted_classes: str = 'error', note: str = '',
                 evidence: Optional[Callable[[], MaskEvidence]] = None,
                 xml_names: Sequence[str] = ()) -> None:
        self.classes = list(classes)
        self.source = source
        self.note = note
        self.evidence = evidence
        self.xml_names = list(xml_names)
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
        if self.policy == 'error':
            fix = self._fix()
        else:
            fix = ('They are left out (unlisted_classes=\'warn\'); '
                   'without it the error gives the --classes line that '
                   'takes them')
        msg = (f'{self.source}: the data holds objects of classes that the '
               f'config does not list ({found}). The config\'s classes: '
               f'{self.classes}. Their objects would be dropped from the '
               f'labels (pixels ignored). {fix}; or leave them out on '
               'purpose: --unlisted-classes warn (or ignore; in a config, '
               f'the dataset option unlisted_classes).{self.note}')
        if self.policy == 'error':
            raise UnlistedClassError(msg)
        print_log(msg, logger='current', level=logging.WARNING)

    def _fix(self) -> str:
        """The ``--classes`` line that takes the data, as far as the masks
        and their XMLs tell how the mask values number classes."""
        every = self.classes + sorted(self.unlisted)
        voc = {_fold(c) for c in VOC_CLASSES}
        evidence = self.evidence() if self.evidence else None
        if evidence is None:
            kind, by_value, detail = 'unknown', None, 'no masks were read'
        else:
            kind, by_value, detail = guess_mask_numbering(evidence)
        spelling = dict(evidence.spelling) if evidence else {}
        for n in self.xml_names:
            spelling.setdefault(_fold(n), n.strip())
        for c in self.classes:  # the config's spelling of a listed class
            spelling[_fold(c)] = c
        # class names of the data's files (not the mask values read by the
        # config, which may be what is wrong)
        data_names = {_fold(n) for n in self.xml_names} | {
            n for _, names in (evidence.pairs if evidence else ())
            for n in names}
        words = ' '.join
        if kind == 'voc':
            not_voc = [c for c in every[1:] if _fold(c) not in voc]
            if not_voc:
                return (f'The masks hold VOC 2012 class indices ({detail}), '
                        f'which have no value for {not_voc}: correct these '
                        'names in the files (see the close names above) or '
                        'set the dataset option mask_classes in a config')
            return ('The masks hold VOC 2012 class indices '
                    f'({detail}), so list the classes by name: '
                    'tools/train.py CONFIG --classes '
                    f'{words(map(shlex.quote, every))} --mask-values voc')
        if kind == 'listed':
            listed = ['background'] + [spelling.get(n, n) for n in by_value]
            rest = data_names - {_fold(c) for c in listed}
            listed += sorted(spelling.get(n, n) for n in rest)
            return ('The masks number a class list of their own, not VOC '
                    f'2012 indices ({detail}), so list background and the '
                    'classes in the order of their mask values: '
                    'tools/train.py CONFIG --classes '
                    f'{words(map(shlex.quote, listed))} --mask-values listed')
        names = sorted(spelling.get(n, n)
                       for n in data_names - {'background'})
        msg = ('Which class each mask value stands for could not be read '
               f'from the data ({detail}). If your masks number your own '
               'class list: --classes background, then every class in the '
               'order of the mask values, and --mask-values listed')
        if names:
            msg += f' (the classes named in the files: {", ".join(names)})'
        if all(_fold(c) in voc for c in every[1:]):
            msg += ('; if they hold VOC 2012 class indices: tools/train.py '
                    'CONFIG --classes '
                    f'{words(map(shlex.quote, every))} --mask-values voc')
        return msg


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

    def _tally(self, note: str = '',
               labels: Optional[Dict[str, Sequence[str]]] = None
               ) -> ClassTally:
        """A :class:`ClassTally` of this dataset's classes and policy.

        Args:
            note: See :class:`ClassTally`.
            labels: The ``{id: [class names]}`` this dataset read (XMLs or
                cache), for the ``--classes`` line of a refusal.
        """
        root = self.data_root or ''

        def evidence() -> MaskEvidence:
            mask_dir = self.data_prefix.get('seg_map_path') or osp.join(
                root, 'SegmentationClass')
            ann_dir = getattr(self, 'ann_dir', None) or osp.join(
                root, 'Annotations')
            return read_mask_evidence(
                mask_dir, ann_dir, getattr(self, 'seg_map_suffix', '.png'),
                labels, getattr(self, 'ignore_index', 255),
                getattr(self, 'reduce_zero_label', False))

        names = sorted({n for v in (labels or {}).values() for n in v})
        return ClassTally(self.metainfo['classes'],
                          f'{type(self).__name__} ({self.data_root})',
                          self.unlisted_classes, note, evidence, names)
