"""Image-level labels of PASCAL VOC images: from ``Annotations/*.xml`` or a
JSON cache written by ``tools/dataset_converters/voc_image_labels.py``."""
import json
import os.path as osp
from typing import Dict, Iterable, List, Optional, Sequence
from xml.etree import ElementTree as ET

CACHE_VERSION = 1


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


def write_label_cache(path: str, labels: Dict[str, List[str]]) -> None:
    """Write ``{id: [class names]}`` as the JSON label cache."""
    with open(path, 'w') as f:
        names = sorted({n for v in labels.values() for n in v})
        json.dump(dict(version=CACHE_VERSION, classes=names,
                       labels=dict(sorted(labels.items()))), f, indent=0)


def read_label_cache(path: str,
                     ids: Optional[Sequence[str]] = None
                     ) -> Dict[str, List[str]]:
    """Read a JSON label cache, checking (optionally) that it covers
    ``ids``. Class names are checked by the dataset that uses them.

    Args:
        path: The cache file.
        ids: Ids that must be in the cache.

    Returns:
        ``{id: [class names]}``.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'image-label cache not found: {path} (write it with '
            'tools/dataset_converters/voc_image_labels.py, or leave '
            'labels_file unset to read the XMLs)')
    with open(path) as f:
        try:
            cache = json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f'{path}: not valid JSON ({e})') from e
    if not isinstance(cache, dict) or cache.get('version') != CACHE_VERSION:
        raise ValueError(
            f'{path}: not an image-label cache of version {CACHE_VERSION}; '
            'rewrite it with voc_image_labels.py')
    labels = cache['labels']
    for i in ids or ():
        if i not in labels:
            raise KeyError(f'{path} has no labels for image {i}; rewrite it '
                           'with voc_image_labels.py')
    return labels
