"""Point a config at one's own VOC-layout data: the root and classes, once.

A config names its data root and class list in every dataset of every
dataloader (the semi-supervised configs have three to four), and the number
of classes again in every head. mmengine resolves config variables such as
``data_root`` when the file is read, so ``--cfg-options data_root=...``
changes nothing, and overriding one dataset leaves the others on the old
data. :func:`set_dataset_options` sets all of them from one value each;
``tools/train.py``, ``tools/test.py`` expose it as ``--data-root``,
``--classes`` and ``--mask-values``.
"""
import argparse
import logging
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

from mmengine.config import Config
from mmengine.logging import print_log

from .config_check import ConfigError, loader_datasets

LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
# datasets that take classes from the config (mask_classes, any names)
CLASS_DATASETS = ('VOCPixelLabelDataset', 'VOCImageLabelDataset')
MASK_VALUES = ('voc', 'listed')


def add_dataset_args(parser: argparse.ArgumentParser) -> None:
    """Add ``--data-root``, ``--classes`` and ``--mask-values``."""
    group = parser.add_argument_group(
        'data', 'point every dataset of the config at other VOC-layout data')
    group.add_argument(
        '--data-root', help='the VOC2012-level folder (JPEGImages, '
        'SegmentationClass, Annotations, ImageSets) for every dataset')
    group.add_argument(
        '--classes', nargs='+', help='class names, background first; sets '
        'every dataset\'s classes and every head\'s num_classes')
    group.add_argument(
        '--mask-values', choices=MASK_VALUES, default=None,
        help='what mask pixel values are: "voc" = VOC 2012 class indices '
        '(0 background .. 20 tvmonitor; default when every class is a VOC '
        'class), "listed" = positions in --classes (default otherwise)')
    from mmseg_lrp.datasets.class_names import UNLISTED_POLICIES
    group.add_argument(
        '--unlisted-classes', choices=UNLISTED_POLICIES,
        default=None, help='objects of classes the config does not list: '
        'refuse them ("error", the datasets\' default), or drop them with a '
        'warning or without one')


def leaf_datasets(cfg: Config) -> Iterator[Tuple[str, dict]]:
    """``(key, dataset config)`` of every dataset that reads files."""
    seen = set()
    for key, ds in loader_datasets(cfg, LOADERS):
        if 'datasets' in ds or 'dataset' in ds or id(ds) in seen:
            continue  # wrappers; test_dataloader often is val's object
        seen.add(id(ds))
        yield key, ds


def head_configs(model: dict) -> Iterator[Tuple[str, dict]]:
    """``(key, head config)`` of the decode and auxiliary heads."""
    for name in ('decode_head', 'auxiliary_head'):
        heads = model.get(name, None)
        if isinstance(heads, dict):
            yield f'model.{name}', heads
        elif isinstance(heads, (list, tuple)):
            for i, h in enumerate(heads):
                yield f'model.{name}.{i}', h


def _dataset_type(ds: dict) -> str:
    return str(ds.get('type', '')).split('.')[-1]


def set_dataset_options(cfg: Config,
                        data_root: Optional[str] = None,
                        classes: Optional[Sequence[str]] = None,
                        mask_values: Optional[str] = None,
                        unlisted_classes: Optional[str] = None) -> List[str]:
    """Set the data root and classes of every dataset, and the heads'
    ``num_classes``, in place.

    Args:
        cfg: The config.
        data_root: New ``data_root`` of every dataset, or None.
        classes: New class names (background first), or None.
        mask_values: ``'voc'`` (masks hold VOC 2012 class indices) or
            ``'listed'`` (positions in ``classes``); None picks ``'voc'``
            when every class is a VOC class, else ``'listed'``.
        unlisted_classes: New ``unlisted_classes`` of the datasets that
            take it (``'error'``, ``'warn'``, ``'ignore'``), or None.

    Returns:
        The config keys that were set (for the log).

    Raises:
        ConfigError: A duplicate class, an unknown ``mask_values``, or a
            dataset type that cannot take the classes.
    """
    from mmseg_lrp.datasets.class_names import VOC_CLASSES
    changed = []
    if classes is not None:
        classes = [str(c) for c in classes]
        if len(set(classes)) != len(classes) or len(classes) < 2:
            raise ConfigError(f'--classes {classes}: give two or more '
                              'distinct names, background first')
        if 'background' not in classes[0].lower() and \
                classes[0].lower() not in ('bg', 'back', 'void'):
            # the loss and the classifier metric leave class 0 out
            print_log(
                f'--classes: the first class {classes[0]!r} is treated as '
                'background (SegClsLoss and MultiLabelClsMetric leave class '
                '0 out of the classification); list background first',
                logger='current', level=logging.WARNING)
        if mask_values is None:
            mask_values = 'voc' if set(classes) <= set(VOC_CLASSES) else (
                'listed')
        if mask_values not in MASK_VALUES:
            raise ConfigError(f'--mask-values {mask_values!r}: expected one '
                              f'of {MASK_VALUES}')
        other = sorted(set(classes) - set(VOC_CLASSES))
        if mask_values == 'voc' and other:
            raise ConfigError(
                f'--mask-values voc, but {other} are not VOC classes: masks '
                'cannot number them by VOC index; use --mask-values listed')
    elif mask_values is not None:
        raise ConfigError('--mask-values needs --classes')
    for key, ds in leaf_datasets(cfg):
        kind = _dataset_type(ds)
        if data_root is not None:
            ds['data_root'] = data_root
            changed.append(f'{key}.data_root')
        if unlisted_classes is not None and kind in CLASS_DATASETS:
            ds['unlisted_classes'] = unlisted_classes
            changed.append(f'{key}.unlisted_classes')
        if classes is None:
            continue
        if kind in CLASS_DATASETS:
            ds['mask_classes'] = None if mask_values == 'voc' else classes
        elif mask_values == 'listed':
            raise ConfigError(
                f'{key}.type={kind!r} reads masks by VOC index only; use '
                'VOCPixelLabelDataset (mmseg_lrp) for masks that number '
                'your own classes')
        ds['metainfo'] = dict(classes=tuple(classes))
        changed.append(f'{key}.metainfo.classes')
    if classes is not None:
        for key, head in head_configs(cfg.model):
            if 'num_classes' in head:
                head['num_classes'] = len(classes)
                changed.append(f'{key}.num_classes')
    return changed


def dataset_classes(ds: dict) -> Optional[Tuple[str, ...]]:
    """The classes a dataset config will have (its metainfo, else its
    type's ``METAINFO``); None if unknown."""
    classes = (ds.get('metainfo', None) or {}).get('classes', None)
    if classes is not None:
        return tuple(classes)
    from mmseg.registry import DATASETS
    try:
        kind = DATASETS.get(ds.get('type'))
    except (KeyError, TypeError):
        kind = None
    meta = getattr(kind, 'METAINFO', None) or {}
    return tuple(meta['classes']) if 'classes' in meta else None


def check_num_classes(cfg: Config) -> None:
    """Check that every head predicts as many classes as the datasets have.

    Raises:
        ConfigError: Naming the head key, its ``num_classes``, the dataset
            key and its classes, and the option that sets both.
    """
    found: Dict[Tuple[str, ...], str] = {}
    for key, ds in leaf_datasets(cfg):
        classes = dataset_classes(ds)
        if classes is not None:
            found.setdefault(classes, key)
    if len(found) > 1:
        lines = '; '.join(f'{k}: {list(c)}' for c, k in found.items())
        raise ConfigError(f'the datasets list different classes ({lines}); '
                          'set them once with --classes')
    if not found:
        return
    (classes, ds_key), = found.items()
    for key, head in head_configs(cfg.get('model', {})):
        n = head.get('num_classes', None)
        if isinstance(n, int) and n != len(classes):
            raise ConfigError(
                f'{key}.num_classes={n}, but {ds_key} has {len(classes)} '
                f'classes {list(classes)}; set both at once with --classes '
                f'(tools/train.py, tools/test.py)')
