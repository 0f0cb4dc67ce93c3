"""Python API: mmseg's init_model / inference_model, with checks."""
import copy
import os
import os.path as osp
from typing import List, Optional, Union

import torch
from mmengine.config import Config
from mmengine.runner.checkpoint import (_load_checkpoint,
                                        _load_checkpoint_to_model)
from mmseg.apis import inference_model  # noqa: F401  (re-exported)
from mmseg.apis import init_model as mmseg_init_model

from mmseg_lrp.utils.checkpoint import check_checkpoint

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')


def config_classes(cfg: Config, loader: str = 'test_dataloader'
                   ) -> Optional[List[str]]:
    """The class names of a config's dataloader (None if unknown)."""
    from mmseg_lrp.utils.dataset_options import dataset_classes, leaf_datasets
    for key, ds in leaf_datasets(cfg):
        if key.startswith(loader):
            classes = dataset_classes(ds)
            return list(classes) if classes is not None else None
    return None


def load_checked_checkpoint(model: torch.nn.Module, cfg: Config,
                            checkpoint: str) -> dict:
    """Load ``checkpoint`` (read once) after checking that it fits.

    Returns:
        The checkpoint dict.

    Raises:
        FileNotFoundError: No such file.
        CheckpointError: Not a checkpoint, corrupt, or another model.
    """
    if '://' not in checkpoint and not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {checkpoint}')
    ckpt = _load_checkpoint(checkpoint, map_location='cpu')
    check_checkpoint(model, ckpt, checkpoint, config_classes(cfg))
    _load_checkpoint_to_model(model, ckpt)
    return ckpt


def check_config_checkpoint(cfg: Config, checkpoint: str) -> None:
    """Build the config's model on the CPU and check that ``checkpoint``
    fits it, before a runner spends time on data and testing.

    Raises:
        FileNotFoundError: No such file.
        CheckpointError: Not a checkpoint, corrupt, or another model.
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
    config (another number of classes, another backbone).

    Args:
        config: Config file or object.
        checkpoint: Checkpoint file; None leaves the initial weights.
        device: Device, e.g. ``'cpu'`` or ``'cuda:0'``.
        cfg_options: Config overrides.

    Returns:
        The model in eval mode, with ``cfg`` and ``dataset_meta``.
    """
    model = mmseg_init_model(config, None, device='cpu',
                             cfg_options=cfg_options)
    if checkpoint is not None:
        ckpt = load_checked_checkpoint(model, model.cfg, checkpoint)
        meta = ckpt.get('meta', {}).get('dataset_meta')
        if meta:
            model.dataset_meta = meta
    if getattr(model, 'dataset_meta', None) is None:
        model.dataset_meta = dict(classes=config_classes(model.cfg))
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
