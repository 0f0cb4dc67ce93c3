"""Load mmengine checkpoints on torch >= 2.6.

torch 2.6 made ``torch.load`` default to ``weights_only=True``, and mmengine
0.10.7 never passes ``weights_only``. Its checkpoints hold more than tensors
(the message hub's ``HistoryBuffer`` with numpy arrays and its statistics
methods, pickled as ``getattr(HistoryBuffer, 'mean')``; numpy scalars in the
runtime info), so ``tools/test.py CKPT`` and ``tools/train.py --resume`` fail
with ``UnpicklingError: Weights only load failed``.

The fix here keeps the safe unpickler and allow-lists exactly the types that
mmengine writes into checkpoints (:func:`mmengine_safe_globals`). ``getattr``
itself is not allowed (it would open the door to arbitrary code); a
restricted stand-in resolves only public functions of ``HistoryBuffer``. It is
installed by replacing mmengine's loader for local paths (the ``''`` scheme of
``CheckpointLoader``), which every mmengine code path uses: ``load_from``,
``resume``, ``init_cfg=dict(type='Pretrained')`` and
``mmengine.runner.load_checkpoint``.

A file that is no checkpoint (random bytes, truncated) is an error naming it
as such; a checkpoint that holds other objects is refused with the names of
torch's switch ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1``, to be set only for a
trusted file (it lifts the allow-list).

:func:`check_checkpoint` compares a loaded checkpoint with the model of a
config before anything runs (``tools/test.py``, ``tools/infer.py``).
"""
import inspect
import logging
import os.path as osp
import pickle
import zipfile
from typing import Callable, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.logging import print_log
from mmengine.runner.checkpoint import CheckpointLoader

_REGISTERED = False


class CheckpointError(ValueError):
    """A file is not a checkpoint, is corrupt, or does not fit a model."""


def _history_buffer_getattr(obj: object, name: str) -> Callable:
    """``getattr`` limited to what ``HistoryBuffer.__getstate__`` pickles."""
    from mmengine.logging.history_buffer import HistoryBuffer
    attr = getattr(obj, name, None) if isinstance(obj, type) and issubclass(
        obj, HistoryBuffer) and not name.startswith('_') else None
    if not inspect.isfunction(attr):
        raise pickle.UnpicklingError(
            f'checkpoint calls getattr({obj!r}, {name!r}), which is not a '
            'HistoryBuffer statistics method; refusing to load it with the '
            'safe unpickler (set TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 only for '
            'a trusted file)')
    return attr


def mmengine_safe_globals() -> List[Union[Callable, Tuple[Callable, str]]]:
    """Types found in checkpoints written by mmengine's ``CheckpointHook``.

    Returns:
        Classes and functions to allow in ``torch.load(weights_only=True)``.
    """
    from mmengine.logging.history_buffer import HistoryBuffer

    # numpy arrays pickle through ``_reconstruct`` whose module moved from
    # ``numpy.core`` (1.x) to ``numpy._core`` (2.x).
    try:
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct, scalar
    dtype_classes = [type(np.dtype(t)) for t in (
        np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16,
        np.uint32, np.uint64, np.float16, np.float32, np.float64)]
    return [
        HistoryBuffer, np.ndarray, np.dtype, _reconstruct, scalar,
        (_history_buffer_getattr, 'builtins.getattr')
    ] + dtype_classes


def has_checkpoint_format(filename: str) -> bool:
    """Whether a file is laid out as ``torch.save`` writes: a zip archive
    (its directory is at the end, so a cut-off file is none), or a
    legacy-format pickle (0x80 first). Reads no tensors."""
    if zipfile.is_zipfile(filename):
        return True
    with open(filename, 'rb') as f:
        return f.read(1) == b'\x80'


def load_from_local(filename: str,
                    map_location: Optional[object] = None) -> dict:
    """mmengine's local checkpoint loader, with mmengine's types allowed.

    Args:
        filename: Path of the checkpoint.
        map_location: Same as :func:`torch.load`.

    Returns:
        The loaded checkpoint.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} can not be found.')
    size = osp.getsize(filename)
    if not has_checkpoint_format(filename):
        raise CheckpointError(
            f'{filename} is not a PyTorch checkpoint or is corrupt ({size} '
            'bytes, neither a torch.save archive nor a pickle)')
    try:
        with torch.serialization.safe_globals(mmengine_safe_globals()):
            return torch.load(filename, map_location=map_location)
    except pickle.UnpicklingError as e:
        msg = str(e)
        ours = [ln for ln in msg.splitlines() if 'checkpoint calls' in ln]
        if ours:  # the restricted getattr of _history_buffer_getattr
            raise pickle.UnpicklingError(
                f'{filename}: {ours[0].strip()}') from e
        foreign = [ln.strip() for ln in msg.splitlines()
                   if 'Unsupported global' in ln]
        if foreign:  # a real checkpoint that pickles other types
            raise CheckpointError(
                f'{filename} holds objects other than tensors and the types '
                f'mmengine writes ({foreign[0]}). Refused by the safe '
                'unpickler; only for a file you trust, '
                'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 loads it without '
                'restriction') from e
        raise CheckpointError(
            f'{filename} is not a PyTorch checkpoint or is corrupt ({size} '
            'bytes; the unpickler stopped on it)') from e
    except (EOFError, zipfile.BadZipFile) as e:
        raise CheckpointError(
            f'{filename} is not a PyTorch checkpoint or is corrupt ({size} '
            f'bytes; {type(e).__name__}: {e})') from e
    except RuntimeError as e:
        # torch's archive reader: a zip that is not (all) a torch.save file
        archive = ('PytorchStreamReader', 'zip', 'inline_container')
        if not any(k in str(e) for k in archive):
            raise
        first = str(e).splitlines()[0]
        raise CheckpointError(
            f'{filename} is not a PyTorch checkpoint or is corrupt ({size} '
            f'bytes; {first})') from e


def register_checkpoint_loader() -> None:
    """Make mmengine load local checkpoints through :func:`load_from_local`.

    Idempotent. A no-op on torch versions without ``safe_globals`` (< 2.5),
    which do not default to ``weights_only=True`` either.
    """
    global _REGISTERED
    if _REGISTERED or not hasattr(torch.serialization, 'safe_globals'):
        return
    CheckpointLoader.register_scheme(prefixes='', loader=load_from_local,
                                     force=True)
    _REGISTERED = True


def _check_backbone(filename: str, state: dict, own: dict,
                    wrong: List[str], missing: List[str]) -> None:
    """Say "another backbone" when the backbone's tensors do not fit, before
    any head message (a head's input width then differs too)."""
    bad = [k for k in wrong if k.startswith('backbone.')]
    lack = [k for k in missing if k.startswith('backbone.')]
    # extra backbone weights: a deeper encoder, which mmengine's non-strict
    # load would silently cut to the config's depth
    extra = [k for k in state if k.startswith('backbone.') and k not in own
             and not k.endswith('num_batches_tracked')]
    if not bad and not lack and not extra:
        return
    parts = []
    if bad:
        parts.append(f'{len(bad)} tensors of other shapes (checkpoint vs '
                     'config: ' + '; '.join(
                         f'{k} {tuple(state[k].shape)} vs '
                         f'{tuple(own[k].shape)}' for k in bad[:3]) + ')')
    if lack:
        parts.append(f'{len(lack)} of the config\'s backbone weights missing '
                     f'(e.g. {", ".join(lack[:3])})')
    if extra:
        parts.append(f'{len(extra)} backbone weights the config does not '
                     f'have (e.g. {", ".join(extra[:3])})')
    raise CheckpointError(
        f"{filename}: the checkpoint's backbone is not the config's: "
        f'{", ".join(parts)}. It was trained with another backbone (type, '
        'depth or width): use the config it was trained with')


def check_checkpoint(model: torch.nn.Module,
                     ckpt: dict,
                     filename: str,
                     classes: Optional[Sequence[str]] = None) -> None:
    """Check that every tensor of a checkpoint fits ``model``.

    mmengine loads non-strictly and only warns on a size mismatch, leaving
    e.g. a randomly initialised classifier when the checkpoint was trained
    for another number of classes: a silent wrong model. Here that is an
    error naming the file, the key and both shapes.

    Args:
        model: The model built from the config.
        ckpt: The loaded checkpoint.
        filename: Its file (for messages).
        classes: The config's class names, compared with the checkpoint's
            ``meta.dataset_meta.classes`` where it has them.

    Raises:
        CheckpointError: A tensor of another shape, missing weights, or the
            config's classes in another order than the checkpoint's.
    """
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        raise CheckpointError(f'{filename} holds no state dict')
    # DataParallel / DDP wrappers save keys as 'module.xxx'
    state = {k[7:] if k.startswith('module.') else k: v
             for k, v in state.items()}
    meta = ckpt.get('meta', None) or {}
    ck_classes = (meta.get('dataset_meta', None) or {}).get('classes')
    own = model.state_dict()
    wrong = [k for k, v in state.items() if k in own and hasattr(v, 'shape')
             and tuple(own[k].shape) != tuple(v.shape)]
    missing = [k for k in own if k not in state
               and not k.endswith('num_batches_tracked')]
    _check_backbone(filename, state, own, wrong, missing)
    for key in wrong:
        value = state[key]
        msg = (f'{filename}: {key} has shape {tuple(value.shape)}, the '
               f'model of the config {tuple(own[key].shape)}')
        if key.endswith('conv_seg.weight'):  # a head's class layer
            if value.shape[0] != own[key].shape[0]:
                msg += (f' (the checkpoint is for {value.shape[0]} '
                        f'classes, the config for {own[key].shape[0]})')
            else:
                msg += (f' (both for {value.shape[0]} classes; the class '
                        'layer takes features of another width: another '
                        'encoder, or another in_channels)')
        if ck_classes and classes and len(ck_classes) != len(classes):
            msg += (f'; the checkpoint was trained on {ck_classes}, the '
                    f'config names {list(classes)} (set them with '
                    '--classes)')
        raise CheckpointError(msg + '. Is it for this config?')
    if missing:
        raise CheckpointError(
            f'{filename} lacks {len(missing)} weights of the model, e.g. '
            f'{missing[:3]}: is it for this config?')
    if ck_classes and classes and list(ck_classes) != list(classes) and \
            sorted(ck_classes) == sorted(classes):
        raise CheckpointError(
            f'{filename} was trained on the classes {list(ck_classes)}, the '
            f'config names the same ones in another order {list(classes)}: '
            'every result would go to the wrong class. List them in the '
            'checkpoint\'s order (--classes)')
    if ck_classes and classes and list(ck_classes) != list(classes):
        print_log(
            f'{filename} was trained with classes {list(ck_classes)}, the '
            f'config names {list(classes)}; results are reported under the '
            'config\'s names', logger='current', level=logging.WARNING)
