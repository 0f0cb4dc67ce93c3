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

A checkpoint that holds other objects still fails with torch's message; for a
trusted file torch's own switch ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` loads it
without the allow-list.
"""
import inspect
import os.path as osp
import pickle
from typing import Callable, List, Optional, Tuple, Union

import numpy as np
import torch
from mmengine.runner.checkpoint import CheckpointLoader

_REGISTERED = False


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
    with torch.serialization.safe_globals(mmengine_safe_globals()):
        return torch.load(filename, map_location=map_location)


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
