"""Shared config handling of the command-line tools (train.py, test.py)."""
import os.path as osp
from typing import Optional, Sequence

from mmengine.config import Config

from .dataset_options import set_dataset_options


def load_tool_config(config: str,
                     cfg_options: Optional[dict] = None,
                     work_dir: Optional[str] = None,
                     launcher: str = 'none',
                     data_root: Optional[str] = None,
                     classes: Optional[Sequence[str]] = None,
                     mask_values: Optional[str] = None,
                     unlisted_classes: Optional[str] = None) -> Config:
    """Load a config the way mmseg's tools do.

    Args:
        config: Config file path.
        cfg_options: ``--cfg-options`` overrides, merged into the config.
        work_dir: ``--work-dir``; else the config's, else
            ``./work_dirs/{config name}``.
        launcher: ``--launcher``.
        data_root: ``--data-root``: every dataset's data root.
        classes: ``--classes``: every dataset's classes and every head's
            ``num_classes``.
        mask_values: ``--mask-values`` (see :func:`set_dataset_options`).
        unlisted_classes: ``--unlisted-classes``.

    Returns:
        The config.
    """
    if not osp.isfile(config):
        raise FileNotFoundError(f'config file {config!r} does not exist')
    cfg = Config.fromfile(config)
    cfg.launcher = launcher
    if cfg_options is not None:
        cfg.merge_from_dict(cfg_options)
    set_dataset_options(cfg, data_root, classes, mask_values,
                        unlisted_classes)
    # work_dir priority: CLI > config file > config file name
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config))[0])
    return cfg
