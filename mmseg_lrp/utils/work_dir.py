"""Up-front checks of the work dir before training: nothing lost, nothing
silent.

mmengine trains into any ``work_dir``: a second training into the same dir
overwrites the first one's ``iter_N.pth``, ``best_*.pth`` and
``last_checkpoint``, and ``--resume`` without a checkpoint (or with
``last_checkpoint`` naming a missing or cut-off file) starts from scratch
or fails deep inside the runner. ``tools/train.py`` calls
:func:`check_work_dir` before building anything, and
:func:`use_atomic_checkpoints` to write checkpoints with
:class:`~mmseg_lrp.engine.hooks.AtomicCheckpointHook`.
"""
import logging
import os
import os.path as osp
import re
from typing import List, Optional

from mmengine.config import Config
from mmengine.logging import print_log

from .checkpoint import has_checkpoint_format
from .config_check import ConfigError

# checkpoints a run can resume from (best_*.pth carry no optimizer state)
_RESUMABLE = re.compile(r'^(?:iter|epoch)_(\d+)\.pth$')
# what plain CheckpointHook type names look like in a config
_PLAIN_HOOKS = ('CheckpointHook', 'mmengine.CheckpointHook',
                'mmseg.CheckpointHook')
_SHOWN = 8


class WorkDirError(ConfigError):
    """The work dir does not fit the requested run (it holds another run's
    checkpoints, or has no checkpoint to resume)."""


def find_checkpoints(work_dir: str) -> List[str]:
    """The checkpoint files directly in ``work_dir``: ``*.pth`` and
    ``last_checkpoint``.

    Args:
        work_dir: The work dir (need not exist).

    Returns:
        File names, sorted; empty when the dir does not exist.
    """
    if not osp.isdir(work_dir):
        return []
    return sorted(
        name for name in os.listdir(work_dir)
        if (name.endswith('.pth') or name == 'last_checkpoint')
        and not osp.isdir(osp.join(work_dir, name)))


def checkpoint_problem(path: str) -> Optional[str]:
    """Why ``path`` is not a complete checkpoint, or ``None`` if it looks
    like one.

    A cheap check that reads no tensors: ``torch.save`` writes a zip archive
    whose directory is at the end, so a cut-off file is no zip archive
    (``zipfile.is_zipfile``); a legacy-format checkpoint starts with a
    pickle opcode (0x80).

    Args:
        path: The file.

    Returns:
        ``'does not exist'``, ``'is empty (0 bytes)'``, ``'is not a
        complete checkpoint (...)'`` or ``None``.
    """
    if not osp.isfile(path):
        return 'does not exist'
    size = osp.getsize(path)
    if size == 0:
        return 'is empty (0 bytes)'
    if has_checkpoint_format(path):
        return None
    return (f'is not a complete checkpoint ({size} bytes, not a readable '
            'torch.save archive)')


def usable_checkpoints(work_dir: str) -> List[str]:
    """The resumable checkpoints in ``work_dir`` (``iter_N.pth``,
    ``epoch_N.pth`` that pass :func:`checkpoint_problem`), newest first.

    Args:
        work_dir: The work dir.

    Returns:
        Paths (``work_dir`` joined), the highest iteration (epoch) first.
    """
    found = []
    for name in find_checkpoints(work_dir):
        match = _RESUMABLE.match(name)
        path = osp.join(work_dir, name)
        if match and checkpoint_problem(path) is None:
            found.append((int(match.group(1)), osp.getmtime(path), path))
    return [path for _, _, path in sorted(found, reverse=True)]


def _listing(names: List[str]) -> str:
    shown = ', '.join(names[:_SHOWN])
    if len(names) > _SHOWN:
        shown += f' and {len(names) - _SHOWN} more'
    return shown


def _resume_hint(work_dir: str) -> str:
    usable = usable_checkpoints(work_dir)
    if not usable:
        return (f' No usable checkpoint (iter_N.pth / epoch_N.pth) is in '
                f'{work_dir}: start a new training with --work-dir NEW_DIR, '
                'or here with --overwrite (without --resume).')
    return (f' Usable checkpoints in {work_dir}, newest first: '
            f'{_listing([osp.basename(p) for p in usable])}. Resume from the '
            'newest with: tools/train.py CONFIG --work-dir '
            f'{work_dir} --resume --cfg-options load_from={usable[0]}')


def check_last_checkpoint(work_dir: str) -> str:
    """Check that ``work_dir/last_checkpoint`` names a complete checkpoint
    (what mmengine's ``--resume`` resumes from).

    Args:
        work_dir: The work dir.

    Returns:
        The checkpoint it names.

    Raises:
        WorkDirError: Without ``last_checkpoint``, or when the file it
            names is missing, empty or cut off; naming the usable
            checkpoints and the command line that resumes from the newest.
    """
    record = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(record):
        raise WorkDirError(
            f'--resume: {work_dir} has checkpoints but no last_checkpoint '
            'file, which names the checkpoint to resume (mmengine would '
            'start from scratch).' + _resume_hint(work_dir))
    with open(record) as f:
        named = f.read().strip()
    if not named:
        raise WorkDirError(f'--resume: {record} is empty.' +
                           _resume_hint(work_dir))
    problem = checkpoint_problem(named)
    if problem is not None:
        raise WorkDirError(
            f'--resume: {record} names {named}, which {problem}: a save '
            'was cut off, or the file was deleted or moved.' +
            _resume_hint(work_dir))
    return named


def check_work_dir(work_dir: str,
                   resume: bool = False,
                   resume_if_present: bool = False,
                   overwrite: bool = False,
                   load_from: Optional[str] = None) -> bool:
    """Check that a training fits its work dir; decide whether it resumes.

    - Without ``resume`` / ``resume_if_present``: refuse a work dir that
      holds checkpoints (``*.pth``, ``last_checkpoint``) of an earlier run,
      unless ``overwrite`` (then only a warning is logged; nothing is
      deleted, files of the same names are replaced as the run saves).
    - ``resume``: refuse when there is nothing to resume, or when
      ``last_checkpoint`` names a missing or cut-off file (see
      :func:`check_last_checkpoint`). With ``load_from`` mmengine resumes
      from that file instead, which then has to exist.
    - ``resume_if_present`` (requeued cluster jobs): resume as ``resume``
      when the work dir holds checkpoints, start fresh otherwise.

    Args:
        work_dir: The run's work dir.
        resume: ``--resume``.
        resume_if_present: ``--resume-if-present``.
        overwrite: ``--overwrite``.
        load_from: The config's ``load_from``.

    Returns:
        Whether the run resumes (the runner's ``resume``).

    Raises:
        WorkDirError: Naming the work dir, what is (not) in it and the ways
            out.
    """
    found = find_checkpoints(work_dir)
    if resume or resume_if_present:
        if load_from:
            if '://' not in load_from and checkpoint_problem(load_from):
                raise WorkDirError(
                    f'--resume with load_from={load_from}: the checkpoint '
                    f'{checkpoint_problem(load_from)}.')
            return True
        if not found:
            if resume_if_present:
                print_log(
                    f'--resume-if-present: no checkpoint in {work_dir}, '
                    'training from scratch',
                    logger='current')
                return False
            where = ('does not exist' if not osp.isdir(work_dir) else
                     'holds no checkpoint (no *.pth, no last_checkpoint)')
            raise WorkDirError(
                f'--resume: the work dir {work_dir} {where}, so there is '
                'nothing to resume. Check --work-dir; train from scratch '
                'without --resume; pass --resume-if-present to resume when '
                'there is a checkpoint and start fresh otherwise (requeued '
                'jobs); or resume from a checkpoint elsewhere with --resume '
                '--cfg-options load_from=PATH.')
        check_last_checkpoint(work_dir)
        return True
    if found:
        if not overwrite:
            raise WorkDirError(
                f'The work dir {work_dir} already holds checkpoints of an '
                f'earlier run: {_listing(found)}. Training into it would '
                'overwrite them. Resume that run with --resume, train into '
                'another directory with --work-dir NEW_DIR, or pass '
                '--overwrite to train from scratch here anyway.')
        print_log(
            f'--overwrite: training from scratch into {work_dir}, which '
            f'holds checkpoints of an earlier run ({_listing(found)}); files '
            'of the same names are replaced as this run saves',
            logger='current',
            level=logging.WARNING)
    return False


def use_atomic_checkpoints(cfg: Config) -> bool:
    """Make a plain ``CheckpointHook`` in ``cfg.default_hooks.checkpoint``
    an :class:`~mmseg_lrp.engine.hooks.AtomicCheckpointHook` (same
    arguments; every checkpoint written to a temporary file and renamed,
    outdated ones deleted after the new one is complete), and log it.

    Args:
        cfg: The config; changed in place.

    Returns:
        Whether the hook was replaced (other hook types are left alone).
    """
    hooks = cfg.get('default_hooks', None) or {}
    hook = hooks.get('checkpoint', None)
    if not isinstance(hook, dict) or hook.get('type') not in _PLAIN_HOOKS:
        return False
    hook['type'] = 'AtomicCheckpointHook'
    if hook.get('_scope_', cfg.get('default_scope', None)) != 'mmseg':
        hook['_scope_'] = 'mmseg'  # registered in mmseg's HOOKS
    print_log(
        'default_hooks.checkpoint: CheckpointHook replaced by '
        'AtomicCheckpointHook (same files; each checkpoint is written to a '
        'temporary file and renamed, outdated ones are deleted after it)',
        logger='current')
    return True
