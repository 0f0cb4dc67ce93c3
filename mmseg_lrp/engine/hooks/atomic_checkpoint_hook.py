"""mmengine's ``CheckpointHook`` with checkpoints that are never half there.

mmengine 0.10 deletes the outdated checkpoint (``max_keep_ckpts``) and the
previous best checkpoint *before* it writes the new one, and writes in
place: a full disk or a kill during the save leaves a truncated
``iter_N.pth``, no previous checkpoint, and ``last_checkpoint`` naming a
deleted or partial file. :class:`AtomicCheckpointHook` writes every
checkpoint to a temporary file next to it, syncs it to disk and renames it
into place, updates ``last_checkpoint`` (itself atomically) after that, and
only then deletes what is outdated.
"""
import os
import os.path as osp
import re
from collections import deque
from typing import Any, Optional

from mmengine.dist import is_main_process, master_only
from mmengine.fileio.backends import LocalBackend
from mmengine.hooks import CheckpointHook
from mmengine.runner import Runner
from mmseg.registry import HOOKS

from mmseg_lrp.utils.atomic_io import (atomic_write, atomic_write_text,
                                       remove_quietly)

_MISSING = object()
# temporary names: '.{name}.{pid}.tmp' (hidden, no '.pth' ending, so no
# glob for checkpoints picks them up)
_TEMP = re.compile(r'^\.(?:.+\.pth|last_checkpoint)\.\d+\.tmp$')


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` that never loses the last good checkpoint.

    Same arguments, files and behaviour as mmengine's
    :class:`~mmengine.hooks.CheckpointHook` (``iter_N.pth`` /
    ``epoch_N.pth``, ``best_{metric}_iter_N.pth``, ``last_checkpoint``, the
    bookkeeping in the message hub for resuming), with the order of the file
    operations made safe:

    1. every checkpoint is written to a temporary file in its directory
       (``.iter_N.pth.{pid}.tmp``), flushed and ``fsync``-ed, then
       ``os.replace``-d into place;
    2. ``last_checkpoint`` is rewritten (atomically too) only after that;
    3. outdated checkpoints (``max_keep_ckpts``) and the previous best
       checkpoint are deleted only after their successor is complete.

    A failure while writing (a full disk, ``OSError(ENOSPC)``) removes the
    partial temporary file and re-raises; the previous checkpoints and
    ``last_checkpoint`` stay as they were. A process killed mid-save leaves
    at most a hidden temporary file, which the next run of the hook in that
    directory removes (``before_train``). Remote storage (``backend_args``
    other than local files, ``file_client_args``) and ``FlexibleRunner``
    (sharded, directory checkpoints) fall back to mmengine's behaviour.

    ``tools/train.py`` uses this hook in place of a plain ``CheckpointHook``;
    in a config::

        default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook',
                                             interval=1000, max_keep_ckpts=2,
                                             save_best='mIoU'))

    Args:
        *args: Positional arguments of ``CheckpointHook``.
        **kwargs: Keyword arguments of ``CheckpointHook`` (``interval``,
            ``by_epoch``, ``max_keep_ckpts``, ``save_best``, ``rule``, ...).
    """

    def before_train(self, runner) -> None:
        """Set up as ``CheckpointHook`` does, then remove temporary files
        that a killed earlier save left in the checkpoint directory.

        Args:
            runner (Runner): The runner of the training process.
        """
        super().before_train(runner)
        self._atomic = (isinstance(self.file_backend, LocalBackend)
                        and isinstance(runner, Runner))
        if not (self._atomic and is_main_process()):
            return
        for directory in {self.out_dir, runner.work_dir}:
            if not osp.isdir(directory):
                continue
            for name in os.listdir(directory):
                if _TEMP.match(name):
                    remove_quietly(osp.join(directory, name))
                    runner.logger.warning(
                        f'Removed {osp.join(directory, name)}, the '
                        'temporary file of a save that did not finish')

    def _save_atomic(self, runner, filename: str, **kwargs: Any) -> None:
        """``runner.save_checkpoint`` into ``out_dir/filename``, atomically.

        Args:
            runner (Runner): The runner.
            filename: The checkpoint's file name.
            **kwargs: Passed on to ``runner.save_checkpoint``.
        """
        if not is_main_process():
            return  # Runner.save_checkpoint is master_only
        path = osp.join(self.out_dir, filename)

        def write(tmp: str) -> None:
            runner.save_checkpoint(self.out_dir, osp.basename(tmp),
                                   self.file_client_args, **kwargs)

        os.makedirs(self.out_dir, exist_ok=True)
        atomic_write(path, write)

    def _remove_checkpoint(self, path: str) -> bool:
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
            return True
        if self.file_backend.isdir(path):
            # checkpoints saved by deepspeed are directories
            self.file_backend.rmtree(path)
            return True
        return False

    def _save_checkpoint_with_step(self, runner, step: int,
                                   meta: dict) -> None:
        """Save ``iter_{step}.pth`` (or ``epoch_``), then point
        ``last_checkpoint`` at it, then delete what ``max_keep_ckpts``
        leaves out.

        Args:
            runner (Runner): The runner of the training process.
            step: The iteration or epoch of the checkpoint.
            meta: The meta information saved in the checkpoint.
        """
        if not getattr(self, '_atomic', False):
            return super()._save_checkpoint_with_step(runner, step, meta)
        hub = runner.message_hub
        before = dict(
            keep=(deque(self.keep_ckpt_ids, self.max_keep_ckpts)
                  if self.max_keep_ckpts > 0 else None),
            keep_info=hub.runtime_info.get('keep_ckpt_ids', _MISSING),
            last_ckpt=self.last_ckpt,
            last_info=hub.runtime_info.get('last_ckpt', _MISSING))
        outdated = []
        # the ids are updated before saving, as mmengine does, so that the
        # checkpoint's message hub lists itself (resume deletes correctly)
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and
                                            self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated.append(self.keep_ckpt_ids.popleft())
            self.keep_ckpt_ids.append(step)
            hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir,
                                                     ckpt_filename)
        hub.update_info('last_ckpt', self.last_ckpt)
        try:
            self._save_atomic(
                runner,
                ckpt_filename,
                save_optimizer=self.save_optimizer,
                save_param_scheduler=self.save_param_scheduler,
                meta=meta,
                by_epoch=self.by_epoch,
                backend_args=self.backend_args,
                **self.args)
        except BaseException:
            if before['keep'] is not None:
                self.keep_ckpt_ids = before['keep']
            self.last_ckpt = before['last_ckpt']
            _restore_info(hub, 'keep_ckpt_ids', before['keep_info'])
            _restore_info(hub, 'last_ckpt', before['last_info'])
            raise

        if not is_main_process():
            return
        atomic_write_text(osp.join(runner.work_dir, 'last_checkpoint'),
                          self.last_ckpt)
        for old in outdated:
            path = self.file_backend.join_path(self.out_dir,
                                               self.filename_tmpl.format(old))
            if path != self.last_ckpt:
                self._remove_checkpoint(path)

    def _save_best_checkpoint(self, runner, metrics: dict) -> None:
        """Save a new best checkpoint, then delete the previous best.

        Args:
            runner (Runner): The runner of the training process.
            metrics (dict): Evaluation results of all metrics.
        """
        if not self.save_best:
            return
        if not getattr(self, '_atomic', False):
            return super()._save_best_checkpoint(runner, metrics)

        if self.by_epoch:
            ckpt_filename = self.filename_tmpl.format(runner.epoch)
            cur_type, cur_time = 'epoch', runner.epoch
        else:
            ckpt_filename = self.filename_tmpl.format(runner.iter)
            cur_type, cur_time = 'iter', runner.iter
        meta = dict(epoch=runner.epoch, iter=runner.iter)

        if 'auto' in self.key_indicators:
            self._init_rule(self.rules, [list(metrics.keys())[0]])

        hub = runner.message_hub
        best_ckpt_updated = False
        for key_indicator, rule in zip(self.key_indicators, self.rules):
            key_score = metrics[key_indicator]
            single = len(self.key_indicators) == 1
            if single:
                best_score_key, best_ckpt_key = 'best_score', 'best_ckpt'
                old_path = self.best_ckpt_path
            else:
                best_score_key = f'best_score_{key_indicator}'
                best_ckpt_key = f'best_ckpt_{key_indicator}'
                old_path = self.best_ckpt_path_dict[key_indicator]

            score_info = hub.runtime_info.get(best_score_key, _MISSING)
            best_score = (self.init_value_map[rule]
                          if score_info is _MISSING else score_info)
            if key_score is None or not self.is_better_than[key_indicator](
                    key_score, best_score):
                continue
            best_ckpt_updated = True
            best_score = key_score
            hub.update_info(best_score_key, best_score)

            best_ckpt_name = f'best_{key_indicator}_{ckpt_filename}'
            best_ckpt_name = best_ckpt_name.replace('/', '_')
            new_path = self.file_backend.join_path(self.out_dir,
                                                   best_ckpt_name)
            ckpt_info = hub.runtime_info.get(best_ckpt_key, _MISSING)
            self._set_best_path(key_indicator, new_path)
            hub.update_info(best_ckpt_key, new_path)
            try:
                self._save_atomic(
                    runner,
                    best_ckpt_name,
                    save_optimizer=False,
                    save_param_scheduler=False,
                    meta=meta,
                    by_epoch=False,
                    backend_args=self.backend_args)
            except BaseException:
                self._set_best_path(key_indicator, old_path)
                _restore_info(hub, best_score_key, score_info)
                _restore_info(hub, best_ckpt_key, ckpt_info)
                raise
            runner.logger.info(
                f'The best checkpoint with {best_score:0.4f} {key_indicator} '
                f'at {cur_time} {cur_type} is saved to {best_ckpt_name}.')
            if (old_path and old_path != new_path and is_main_process()
                    and self._remove_checkpoint(old_path)):
                runner.logger.info(
                    f'The previous best checkpoint {old_path} is removed')

        # as mmengine: save the step's checkpoint again, so that it holds
        # the new best score and path (resume then removes the right best)
        if best_ckpt_updated and self.last_ckpt is not None:
            self._save_checkpoint_with_step(runner, cur_time, meta)

    def _set_best_path(self, key_indicator: str, path: Optional[str]) -> None:
        if len(self.key_indicators) == 1:
            self.best_ckpt_path = path
        else:
            self.best_ckpt_path_dict[key_indicator] = path

    @master_only
    def _publish_model(self, runner, ckpt_path: str) -> None:
        """Publish ``ckpt_path`` as mmengine does (``published_keys``),
        writing the published file atomically.

        Args:
            runner (Runner): The runner of the training process.
            ckpt_path (str): The checkpoint path to publish.
        """
        if not getattr(self, '_atomic', False):
            return super()._publish_model(runner, ckpt_path)
        import mmengine.runner as mm_runner
        original = mm_runner.save_checkpoint

        def save_checkpoint(checkpoint, filename, *args, **kwargs):
            atomic_write(
                filename,
                lambda tmp: original(checkpoint, tmp, *args, **kwargs))

        mm_runner.save_checkpoint = save_checkpoint
        try:
            super()._publish_model(runner, ckpt_path)
        finally:
            mm_runner.save_checkpoint = original


def _restore_info(hub, key: str, value: Any) -> None:
    """Put a message hub runtime entry back as it was (``_MISSING``:
    absent)."""
    if value is _MISSING:
        hub._runtime_info.pop(key, None)
    else:
        hub.update_info(key, value)
