"""Python API: mmseg's init_model / inference_model, with checks."""
import os
import os.path as osp
from typing import List, Optional, Union

import torch
from mmengine.config import Config
from mmengine.runner import load_checkpoint
from mmengine.runner.checkpoint import _load_checkpoint
from mmseg.apis import inference_model  # noqa: F401  (re-exported)
from mmseg.apis import init_model as mmseg_init_model

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')


def check_checkpoint(model: torch.nn.Module, checkpoint: str) -> dict:
    """Check that every tensor of ``checkpoint`` fits ``model``.

    mmengine loads non-strictly and only warns on a size mismatch, leaving
    e.g. a randomly initialised classifier when the checkpoint was trained
    for another number of classes: a silent wrong model. Here that is an
    error naming the file, the key and both shapes.

    Returns:
        The loaded checkpoint dict.
    """
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {checkpoint}')
    ckpt = _load_checkpoint(checkpoint, map_location='cpu')
    state = ckpt.get('state_dict', ckpt)
    own = model.state_dict()
    for key, value in state.items():
        if key in own and tuple(own[key].shape) != tuple(value.shape):
            msg = (f'{checkpoint}: {key} has shape {tuple(value.shape)}, '
                   f'the model from the config {tuple(own[key].shape)}')
            if key.endswith('conv_seg.weight'):
                msg += (f' (the checkpoint is for {value.shape[0]} classes, '
                        f'the config for {own[key].shape[0]})')
            raise ValueError(msg)
    missing = [k for k in own if k not in state
               and not k.endswith('num_batches_tracked')]
    if missing:
        raise KeyError(f'{checkpoint} lacks {len(missing)} weights of the '
                       f'model, e.g. {missing[:3]}: is it for this config?')
    return ckpt


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
        ckpt = check_checkpoint(model, checkpoint)
        load_checkpoint(model, checkpoint, map_location='cpu')
        meta = ckpt.get('meta', {}).get('dataset_meta')
        if meta:
            model.dataset_meta = meta
    if getattr(model, 'dataset_meta', None) is None:
        cfg = model.cfg
        ds = cfg.test_dataloader.dataset
        model.dataset_meta = dict(
            classes=(ds.get('metainfo') or {}).get('classes'))
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
