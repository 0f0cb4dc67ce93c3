"""Python API: mmseg's init_model / inference_model, with checks."""
import copy
import logging
import os
import os.path as osp
from typing import List, Optional, Sequence, Union

import torch
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.runner.checkpoint import (_load_checkpoint,
                                        _load_checkpoint_to_model)
from mmseg.apis import inference_model  # noqa: F401  (re-exported)
from mmseg.apis import init_model as mmseg_init_model

from mmseg_lrp.utils.checkpoint import (check_checkpoint,
                                        register_checkpoint_loader)

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')


def config_classes(cfg: Config, loader: str = 'test_dataloader'
                   ) -> Optional[List[str]]:
    """The class names of a config's dataloader.

    Args:
        cfg: The config.
        loader: The dataloader whose (first) dataset to read.

    Returns:
        The names, or None if neither the dataset config nor its type says.
    """
    from mmseg_lrp.utils.dataset_options import dataset_classes, leaf_datasets
    for key, ds in leaf_datasets(cfg):
        if key.startswith(loader):
            classes = dataset_classes(ds)
            return list(classes) if classes is not None else None
    return None


def read_checkpoint(filename: str) -> dict:
    """A checkpoint file's content, on the CPU, through mmengine's loader
    (made able to read mmengine's own checkpoints on torch >= 2.6)."""
    register_checkpoint_loader()
    return _load_checkpoint(filename, map_location='cpu')


def load_checked_checkpoint(model: torch.nn.Module, cfg: Config,
                            checkpoint: str,
                            ckpt: Optional[dict] = None,
                            classes: Optional[Sequence[str]] = None
                            ) -> dict:
    """Load a checkpoint into ``model`` after checking that it fits.

    Args:
        model: The model built from ``cfg``.
        cfg: Its config (for the class names in messages).
        checkpoint: The file.
        ckpt: The file's content, if already read (read once).
        classes: The model's class names (default: the config's).

    Returns:
        The checkpoint dict.

    Raises:
        FileNotFoundError: No such file.
        CheckpointError: Not a checkpoint, corrupt, or another model.
    """
    if ckpt is None:
        ckpt = read_checkpoint(checkpoint)
    check_checkpoint(model, ckpt, checkpoint,
                     classes if classes is not None else config_classes(cfg))
    _load_checkpoint_to_model(model, ckpt)
    return ckpt


def check_config_checkpoint(cfg: Config, checkpoint: str) -> None:
    """Build the config's model on the CPU and check that ``checkpoint``
    fits it, before a runner spends time on data and testing.

    Args:
        cfg: The (tool-adjusted) config.
        checkpoint: The file the runner will load.

    Raises:
        FileNotFoundError: No such file.
        CheckpointError: Not a checkpoint, corrupt, another model, or the
            config's classes in another order.
    """
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model_cfg = copy.deepcopy(cfg.model)
    if model_cfg.get('type') == 'SegTTAModel':  # --tta wraps the model
        model_cfg = model_cfg['module']
    model = MODELS.build(model_cfg)
    load_checked_checkpoint(model, cfg, checkpoint)


def init_model(config: Union[str, Config],
               checkpoint: Optional[str] = None,
               device: str = 'cuda:0',
               cfg_options: Optional[dict] = None) -> torch.nn.Module:
    """mmseg's ``init_model``, refusing a checkpoint that does not fit the
    config (another backbone, other shapes).

    A checkpoint trained for another number of classes than the config's
    (``tools/train.py --classes``) is built for the classes it names in its
    metadata, with a warning: inference needs no dataset, and the
    checkpoint knows what its outputs mean.

    Args:
        config: Config file or object.
        checkpoint: Checkpoint file; None leaves the initial weights.
        device: Device, e.g. ``'cpu'`` or ``'cuda:0'``.
        cfg_options: Config overrides.

    Returns:
        The model in eval mode, with ``cfg`` and ``dataset_meta``.
    """
    from mmseg_lrp.utils.dataset_options import head_configs
    if isinstance(config, str):
        if not osp.isfile(config):
            raise FileNotFoundError(f'config file {config!r} does not exist')
        config = Config.fromfile(config)
    if cfg_options:
        config.merge_from_dict(cfg_options)
    ckpt = meta = None
    if checkpoint is not None:
        ckpt = read_checkpoint(checkpoint)
        meta = (ckpt.get('meta', None) or {}).get('dataset_meta', None)
    trained = list(meta['classes']) if meta and meta.get('classes') else None
    classes = config_classes(config)
    if trained and classes and len(trained) != len(classes):
        print_log(
            f'{checkpoint} was trained on {len(trained)} classes {trained}, '
            f'the config lists {len(classes)}: the model is built for the '
            "checkpoint's classes", logger='current', level=logging.WARNING)
        for _, head in head_configs(config.model):
            if 'num_classes' in head:
                head['num_classes'] = len(trained)
    classes = trained or classes  # what the outputs mean
    model = mmseg_init_model(config, None, device='cpu')
    if ckpt is not None:
        load_checked_checkpoint(model, model.cfg, checkpoint, ckpt, classes)
    model.dataset_meta = dict(meta) if meta else dict(classes=classes)
    model.to(device)
    model.eval()
    return model


def list_images(path: str) -> List[str]:
    """The image files of ``path`` (a file, or a folder: its images, sorted).

    Raises:
        FileNotFoundError: ``path`` does not exist, or a folder has no image.
    """
    if osp.isfile(path):
        return [path]
    if not osp.isdir(path):
        raise FileNotFoundError(f'no such image or folder: {path}')
    files = sorted(
        osp.join(path, f) for f in os.listdir(path)
        if f.lower().endswith(IMAGE_SUFFIXES))
    if not files:
        raise FileNotFoundError(
            f'{path} holds no image (looked for {", ".join(IMAGE_SUFFIXES)})')
    return files
