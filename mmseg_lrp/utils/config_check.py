"""Clear errors for bad configs: missing data paths and unknown components.

mmengine reports both late and deep: a missing data root surfaces as a bare
``AssertionError`` from inside ``PascalVOCDataset.__init__`` when the first
dataloader is built, and a misspelt component as a ``KeyError`` wrapped in
the messages of every enclosing build. The tools call
:func:`check_data_paths` before building anything and run the runner inside
:func:`explain_build_errors`, so the error names the config key and the path
or type name.
"""
import difflib
import os.path as osp
import re
from contextlib import contextmanager
from typing import Iterator, List, Sequence, Tuple

from mmengine.config import Config

# registry names may hold blanks ('data sampler')
_UNKNOWN_TYPE = re.compile(
    r'([^\s\'"`]+) is not in the (\S+?)::([\w ]+?) registry')


class ConfigError(ValueError):
    """A config names a component or a path that does not exist."""


def iter_datasets(cfg: dict, key: str) -> Iterator[Tuple[str, dict]]:
    """Yield ``(key, dataset_cfg)`` for a dataset config and its children.

    Keys use mmengine's ``--cfg-options`` syntax (``datasets.0``).
    """
    yield key, cfg
    for i, sub in enumerate(cfg.get('datasets', None) or []):
        if isinstance(sub, dict):
            yield from iter_datasets(sub, f'{key}.datasets.{i}')
    if isinstance(cfg.get('dataset', None), dict):
        yield from iter_datasets(cfg['dataset'], f'{key}.dataset')


def loader_datasets(cfg: Config,
                    loaders: Sequence[str]) -> Iterator[Tuple[str, dict]]:
    """``(key, dataset config)`` of every dataset (wrappers included) of
    the dataloaders ``loaders``; missing or ``None`` loaders are skipped."""
    for loader in loaders:
        loader_cfg = cfg.get(loader, None)
        if isinstance(loader_cfg, dict) and isinstance(
                loader_cfg.get('dataset', None), dict):
            yield from iter_datasets(loader_cfg['dataset'],
                                     f'{loader}.dataset')


def _is_local(path: str) -> bool:
    return '://' not in path


def check_data_paths(cfg: Config, loaders: Sequence[str]) -> None:
    """Check that the local data folders and split files of a config exist.

    Paths are resolved as mmengine's ``BaseDataset`` resolves them:
    ``ann_file`` and every ``data_prefix`` entry relative to ``data_root``.

    Args:
        cfg: The config.
        loaders: Dataloader keys to check, e.g. ``('train_dataloader',
            'val_dataloader')``. Missing or ``None`` loaders are skipped.

    Raises:
        ConfigError: Naming the config key and the missing path.
    """
    for key, ds in loader_datasets(cfg, loaders):
        if ds.get('backend_args', None):
            continue  # remote storage: nothing to check locally
        split = ds.get('pixel_split', None)
        if split:  # SemiVOCDataset: the split file of its datasets.0
            _check_pixel_split(key, split, ds['datasets'][0])
        root = ds.get('data_root', None) or ''
        if root and _is_local(root) and not osp.isdir(root):
            raise ConfigError(
                f'{key}.data_root: data root {root!r} does not exist '
                f'(resolved to {osp.abspath(root)!r}). Prepare the data '
                '(see docs/data.md) or point every dataset of the '
                'config at yours: tools/train.py (or test.py) CONFIG '
                '--data-root /path/to/VOC2012')
        ann = ds.get('ann_file', None)
        if ann and isinstance(ann, str) and _is_local(ann):
            path = ann if osp.isabs(ann) else osp.join(root, ann)
            if not osp.exists(path):
                hint = ''
                if key.startswith('test_dataloader') and osp.basename(
                        path) == 'test.txt':
                    hint = (': this data has no test split (VOC 2012 has '
                            'none with masks); evaluate on val with '
                            '--cfg-options test_dataloader.dataset.ann_file='
                            'ImageSets/Segmentation/val.txt')
                raise ConfigError(f'{key}.ann_file: split file {path!r} '
                                  f'does not exist{hint}')
        prefix = ds.get('data_prefix', None) or {}
        for name, sub in prefix.items():
            if not sub or not isinstance(sub, str) or not _is_local(sub):
                continue
            path = sub if osp.isabs(sub) else osp.join(root, sub)
            if not osp.isdir(path):
                raise ConfigError(
                    f'{key}.data_prefix.{name}: folder {path!r} does not '
                    'exist')


def _check_pixel_split(key: str, split: str, pixel: dict) -> None:
    ann = pixel.get('ann_file', None)
    if ann and ann != split:
        raise ConfigError(
            f'{key}.pixel_split={split!r} and {key}.datasets.0.ann_file='
            f'{ann!r} name different splits: set only {key}.pixel_split')
    root = pixel.get('data_root', None) or ''
    if root and not osp.isdir(root):
        return  # the pool's own data_root check names the root
    path = split if osp.isabs(split) else osp.join(root, split)
    if _is_local(path) and not osp.exists(path):
        raise ConfigError(
            f'{key}.pixel_split: split file {path!r} does not exist')


def find_type_keys(cfg: object, name: str, key: str = '') -> List[str]:
    """Config keys whose ``type`` is ``name``.

    Args:
        cfg: A config (or any nested dict/list of it).
        name: The type name to look for.
        key: Key prefix of ``cfg`` (used in recursion).

    Returns:
        Dotted keys such as ``model.decode_head.type``.
    """
    found = []
    if isinstance(cfg, dict):
        if cfg.get('type', None) == name:
            found.append(f'{key}.type' if key else 'type')
        for k, v in cfg.items():
            found += find_type_keys(v, name, f'{key}.{k}' if key else str(k))
    elif isinstance(cfg, (list, tuple)):
        for i, v in enumerate(cfg):
            found += find_type_keys(v, name, f'{key}.{i}')
    return found


def _registry_keys(scope: str, name: str) -> List[str]:
    """Names registered in registry ``name`` of ``scope`` and its parents."""
    import importlib
    try:
        module = importlib.import_module(f'{scope}.registry')
    except ImportError:
        return []
    for reg in vars(module).values():
        if getattr(reg, 'name', None) == name and hasattr(reg, 'module_dict'):
            reg.import_from_location()
            keys = []
            while reg is not None:
                keys += list(reg.module_dict)
                reg = reg.parent
            return keys
    return []


@contextmanager
def explain_build_errors(cfg: Config) -> Iterator[None]:
    """Turn mmengine's "X is not in the registry" into a clear error.

    Args:
        cfg: The config being built (to find the keys naming ``X``).

    Raises:
        ConfigError: Naming the config key(s), the unknown type, the registry
            and the closest registered names.
    """
    try:
        yield
    except KeyError as e:
        m = _UNKNOWN_TYPE.search(str(e))
        if m is None:
            raise
        name, scope, registry = m.groups()
        keys = find_type_keys(cfg.to_dict(), name) or ['<unknown key>']
        close = difflib.get_close_matches(
            name.split('.')[-1], _registry_keys(scope, registry), n=3)
        hint = f' Did you mean {", ".join(map(repr, close))}?' if close else ''
        raise ConfigError(
            f'{", ".join(keys)}: unknown component {name!r} (not registered '
            f'in the {scope}::{registry} registry).{hint} Check the spelling, '
            'and that the module defining it is listed in custom_imports.'
        ) from e
