"""Image-level labels of PASCAL VOC images: from ``Annotations/*.xml`` or a
JSON cache written by ``tools/dataset_converters/voc_image_labels.py``."""
import json
import os
import os.path as osp
import shlex
from typing import Dict, Iterable, List, Optional, Sequence
from xml.etree import ElementTree as ET

from mmseg_lrp.utils.atomic_io import atomic_write

# 2: records the size and mtime_ns of each XML it was read from
CACHE_VERSION = 2
TOOL = 'tools/dataset_converters/voc_image_labels.py'
DEFAULT_CACHE = 'ImageLabels.json'
DEFAULT_ANN_DIR = 'Annotations'
SHOWN = 5  # files named in a message; the rest are counted


def read_id_list(path: str) -> List[str]:
    """Ids of a VOC list file (one per line; blank lines skipped).

    Args:
        path: The list file (e.g. ``ImageSets/Segmentation/train.txt``).

    Returns:
        The ids in file order.

    Raises:
        FileNotFoundError: The file does not exist.
        ValueError: An id occurs twice (it would be sampled twice as often).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'split file not found: {path}')
    with open(path) as f:
        ids = [line.split()[0] for line in f if line.strip()]
    seen = set()
    for i in ids:
        if i in seen:
            raise ValueError(f'{path}: id {i} is listed twice')
        seen.add(i)
    return ids


def check_not_empty(paths: Sequence[str], where: str) -> None:
    """Refuse 0-byte files (an interrupted copy or download) up front: one
    ``os.stat`` per file, so a training run does not meet them only when
    it draws them, possibly hours in.

    Args:
        paths: Files that exist.
        where: What lists them (for the message), e.g. the split file.

    Raises:
        ValueError: Naming the empty files (first five) and their count.
    """
    empty = [p for p in paths if os.stat(p).st_size == 0]
    if empty:
        shown = ', '.join(empty[:5]) + (', ...' if len(empty) > 5 else '')
        raise ValueError(f'{where}: {len(empty)} empty file(s) (0 bytes): '
                         f'{shown}; copy them again or leave their ids out')


def read_voc_xml_names(xml_path: str) -> List[str]:
    """Object class names of a VOC annotation XML (in file order).

    Args:
        xml_path: Path of the XML file.

    Returns:
        The ``object/name`` texts.

    Raises:
        ValueError: The file is not valid XML.
    """
    try:
        tree = ET.parse(xml_path)
    except ET.ParseError as e:
        raise ValueError(f'{xml_path}: not a valid VOC XML ({e})') from e
    return [o.findtext('name', '').strip() for o in tree.iter('object')]


def xml_class_names(xml_path: str, image_id: str = '') -> List[str]:
    """Distinct object class names of one VOC XML, as written there.

    The names are matched against a dataset's classes when it loads them
    (:class:`~mmseg_lrp.datasets.class_names.ClassTally`), so data with
    classes of its own can be cached and split too.

    Args:
        xml_path: The annotation file.
        image_id: The image id, for error messages.

    Returns:
        The distinct class names in file order.

    Raises:
        FileNotFoundError: The XML is missing.
        ValueError: The XML is malformed or has an object without a name.
    """
    if not osp.isfile(xml_path):
        raise FileNotFoundError(
            f'image {image_id}: annotation XML not found: {xml_path}')
    names = []
    for name in read_voc_xml_names(xml_path):
        if not name:
            raise ValueError(f'{xml_path} (image {image_id}): an object '
                             'without a class name')
        if name not in names:
            names.append(name)
    return names


def collect_image_labels(ann_dir: str,
                         ids: Iterable[str],
                         progress: bool = False) -> Dict[str, List[str]]:
    """Class names of every id from its ``{ann_dir}/{id}.xml``.

    Args:
        ann_dir: The ``Annotations`` folder.
        ids: Image ids.
        progress: Show a progress bar.

    Returns:
        ``{id: [class names]}``.
    """
    ids = list(ids)
    if progress:
        from mmengine.utils import track_iter_progress
        ids = track_iter_progress(ids)
    return {i: xml_class_names(osp.join(ann_dir, f'{i}.xml'), i) for i in ids}


def _stat_key(path: str) -> Optional[List[int]]:
    """``[size, mtime_ns]`` of a file, None if there is none."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return [st.st_size, st.st_mtime_ns]


def rebuild_command(path: str, ann_dir: str = DEFAULT_ANN_DIR,
                    args: Sequence[str] = ()) -> str:
    """The ``voc_image_labels.py`` command that (re)writes a cache.

    Args:
        path: The cache file (as the caller names it).
        ann_dir: The XML folder, relative to the cache's folder (the tool
            reads ``ROOT/Annotations``: ROOT is the folder above).
        args: Options of the run that wrote it (``--ids ...``).

    Returns:
        ``python tools/dataset_converters/voc_image_labels.py ROOT ...``.
    """
    folder = osp.dirname(path)
    xml_dir = osp.normpath(osp.join(folder, ann_dir))
    if osp.basename(xml_dir) == 'Annotations':
        root = osp.dirname(xml_dir) or '.'
    else:  # not the tool's layout: the cache's own folder
        root = folder or '.'
    out = osp.relpath(path, root)
    words = [TOOL, root, *args]
    if out != DEFAULT_CACHE:
        words += ['--out', out]
    return 'python ' + ' '.join(shlex.quote(str(w)) for w in words)


def xml_sources(ann_dir: str,
                ids: Iterable[str]) -> Dict[str, Optional[List[int]]]:
    """``{id: [size, mtime_ns] or None}`` of the ids' XMLs: what a cache
    records. Take it *before* reading the XMLs, so that a file changed
    while they are read shows as changed afterwards."""
    return {i: _stat_key(osp.join(ann_dir, f'{i}.xml')) for i in ids}


def write_label_cache(path: str,
                      labels: Dict[str, List[str]],
                      ann_dir: Optional[str] = None,
                      args: Sequence[str] = (),
                      sources: Optional[Dict[str, Optional[List[int]]]] = None
                      ) -> None:
    """Write ``{id: [class names]}`` as the JSON label cache, with what it
    was built from: the size and ``mtime_ns`` of each id's XML (None for an
    id without one, whose labels came from elsewhere), so that
    :func:`read_label_cache` refuses it once an XML changes.

    The file is replaced at once (a temporary file, then ``os.replace``): a
    write that fails leaves the old cache (or none) as it was.

    Args:
        path: The cache file (its folder is created if missing).
        labels: The labels.
        ann_dir: The XML folder they were read from; default
            ``Annotations`` beside the cache.
        args: Options of ``voc_image_labels.py`` to repeat when it is
            rebuilt (``--ids FILE ...``; ``--out`` follows from ``path``).
        sources: :func:`xml_sources` taken before the XMLs were read;
            default: taken now.
    """
    folder = osp.dirname(path)
    if ann_dir is None:
        ann_dir = osp.join(folder, DEFAULT_ANN_DIR)
    if sources is None:
        sources = xml_sources(ann_dir, labels)
    lost = [i for i in labels if i not in sources]
    if lost:
        raise ValueError(f'write_label_cache: no sources for {lost[:SHOWN]}')
    names = sorted({n for v in labels.values() for n in v})
    cache = dict(version=CACHE_VERSION, classes=names,
                 ann_dir=osp.relpath(ann_dir, folder or '.'),
                 args=[str(a) for a in args],
                 sources={i: sources[i] for i in sorted(labels)},
                 labels=dict(sorted(labels.items())))
    if folder:
        os.makedirs(folder, exist_ok=True)

    def write(tmp: str) -> None:
        with open(tmp, 'w') as f:
            json.dump(cache, f, indent=0)

    atomic_write(path, write)


class LabelCacheError(ValueError):
    """The image-label cache does not match the XMLs (or is outdated)."""


class MissingLabelsError(LabelCacheError, KeyError):
    """Ids that the cache has no labels for (a ``KeyError`` as before)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ''


def _some(paths: List[str], what: str) -> str:
    shown = ', '.join(paths[:SHOWN])
    more = f', ... ({len(paths) - SHOWN} more)' if len(paths) > SHOWN else ''
    return f'{len(paths)} XML file(s) {what}: {shown}{more}'


def check_label_cache(path: str, cache: dict, ids: Iterable[str],
                      ann_dir: Optional[str] = None) -> None:
    """Refuse a cache whose XMLs changed since it was written.

    One ``os.stat`` per id (about 0.05 s for VOC's 17k XMLs).

    Args:
        path: The cache file (for messages and the rebuild command).
        cache: Its content (version :data:`CACHE_VERSION`).
        ids: The ids to check (those that will be used).
        ann_dir: The XML folder the reader would use; must be the one the
            cache was built from.

    Raises:
        MissingLabelsError: An id has no labels in the cache (its XML added
            since, or no XML either).
        LabelCacheError: An XML changed (size or modification time), went
            missing, or appeared for an id whose labels came from elsewhere.
    """
    folder = osp.dirname(path)
    rel = cache.get('ann_dir', DEFAULT_ANN_DIR)
    built_from = osp.normpath(osp.join(folder, rel))
    command = rebuild_command(path, rel, cache.get('args', ()))
    if ann_dir is not None and osp.abspath(ann_dir) != osp.abspath(
            built_from):
        raise LabelCacheError(
            f'{path} was built from the XMLs in {built_from}, but the '
            f'dataset reads {ann_dir}; rebuild it from those with:\n'
            f'{command}')
    labels, sources = cache['labels'], cache['sources']
    changed, missing, added, unlabelled = [], [], [], []
    for i in ids:
        xml = osp.join(built_from, f'{i}.xml')
        now = _stat_key(xml)
        if i not in labels:  # an image (and XML) added since
            unlabelled.append(i)
            if now is not None:
                added.append(xml)
        elif sources.get(i) is None:  # labels from elsewhere, valid
            if now is not None:  # until an XML says otherwise
                added.append(xml)
        elif now is None:
            missing.append(xml)
        elif list(sources[i]) != now:
            changed.append(xml)
    if not (changed or missing or added or unlabelled):
        return
    found = []
    if changed:
        found.append(_some(changed, 'changed (size or modification time)'))
    if missing:
        found.append(_some(missing, 'missing'))
    if added:
        found.append(_some(added, 'added'))
    if unlabelled:
        found.append(f'{len(unlabelled)} image(s) without labels in it: '
                     + ', '.join(unlabelled[:SHOWN]))
    copy = (' (a copy of the data that did not keep modification times '
            'shows every XML as changed)' if changed else '')
    msg = (f'the image-label cache {path} is out of date with the XMLs in '
           f'{built_from} ({"; ".join(found)}). It was not used: its labels '
           f'are those of the old files{copy}. Rebuild it (after fixing any '
           f'XML it cannot read) with:\n{command}')
    raise (MissingLabelsError if unlabelled else LabelCacheError)(msg)


def read_label_cache(path: str,
                     ids: Optional[Sequence[str]] = None,
                     ann_dir: Optional[str] = None,
                     check: bool = True) -> Dict[str, List[str]]:
    """Read a JSON label cache, checking that it covers ``ids`` and that
    their XMLs are the files it was built from (:func:`check_label_cache`).
    Class names are checked by the dataset that uses them.

    Args:
        path: The cache file.
        ids: Ids that must be in the cache (and whose XMLs are checked);
            None: every id of the cache.
        ann_dir: The XML folder the caller would read (checked to be the
            one the cache was built from); None: the cache's.
        check: Check the XMLs (False: only that the ids are there).

    Returns:
        ``{id: [class names]}``.

    Raises:
        FileNotFoundError: No cache.
        LabelCacheError: Not a cache of this version, or out of date.
        MissingLabelsError: Ids without labels (a ``KeyError``).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'image-label cache not found: {path} (write it with '
            f'{rebuild_command(path)}, or leave labels_file unset to read '
            'the XMLs)')
    with open(path) as f:
        try:
            cache = json.load(f)
        except json.JSONDecodeError as e:
            raise LabelCacheError(
                f'{path}: not valid JSON ({e}); rebuild it with:\n'
                f'{rebuild_command(path)}') from e
    version = cache.get('version') if isinstance(cache, dict) else None
    if version != CACHE_VERSION or not all(
            isinstance(cache.get(k), dict) for k in ('labels', 'sources')):
        older = (f'version {version}, written before caches recorded the '
                 'XMLs they were read from' if isinstance(version, int)
                 and version < CACHE_VERSION else 'an unknown format')
        raise LabelCacheError(
            f'{path}: not an image-label cache of version {CACHE_VERSION} '
            f'({older}); rebuild it with:\n{rebuild_command(path)}')
    labels = cache['labels']
    if ids is None:
        ids = list(labels)
    if check:
        check_label_cache(path, cache, ids, ann_dir)
    else:
        lost = [i for i in ids if i not in labels]
        if lost:
            command = rebuild_command(path, cache.get('ann_dir',
                                                      DEFAULT_ANN_DIR),
                                      cache.get('args', ()))
            raise MissingLabelsError(
                f'{path} has no labels for {len(lost)} image(s): '
                f'{", ".join(lost[:SHOWN])}; rebuild it with:\n{command}')
    return labels
