"""Nothing lost, nothing silent (issue #24): checkpoints written atomically
(``AtomicCheckpointHook``), a second training refused from a work dir with
checkpoints, ``--resume`` refused without a usable checkpoint.

The hook tests drive a tiny mmengine ``Runner`` (a linear model, 4
iterations, validation and a checkpoint every 2) and simulate a full disk or
a kill in the middle of writing ``iter_4.pth``; one test runs
``tools/train.py`` end to end.
"""
import errno
import glob
import os
import os.path as osp
import re
import signal
import subprocess
import sys
import textwrap
import time
import uuid
import zipfile

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from conftest import BASELINE_CONFIG, ROOT, tool_cmd, tool_env, toy_cfg_options

HOOK = 'AtomicCheckpointHook'
TESTS_DIR = osp.dirname(osp.abspath(__file__))


class ToyDataset(Dataset):
    """12 fixed samples of a 2-feature regression."""

    def __init__(self) -> None:
        gen = torch.Generator().manual_seed(0)
        self.x = torch.randn(12, 2, generator=gen)
        self.y = torch.randn(12, 1, generator=gen)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i):
        return dict(inputs=self.x[i], data_samples=self.y[i])


def _make_model():
    from mmengine.model import BaseModel

    class ToyModel(BaseModel):

        def __init__(self) -> None:
            super().__init__()
            self.linear = nn.Linear(2, 1)

        def forward(self, inputs, data_samples=None, mode='tensor'):
            if isinstance(inputs, list):
                inputs = torch.stack(inputs)
            if isinstance(data_samples, list):
                data_samples = torch.stack(data_samples)
            out = self.linear(inputs)
            if mode == 'loss':
                return dict(loss=((out - data_samples)**2).mean())
            return [o for o in out]

    return ToyModel()


def _make_metric():
    from mmengine.evaluator import BaseMetric

    class RisingMetric(BaseMetric):
        """An 'mIoU' that improves at every validation (a new best each
        time)."""

        def __init__(self) -> None:
            super().__init__()
            self.calls = 0

        def process(self, data_batch, data_samples) -> None:
            self.results.append(0)

        def compute_metrics(self, results) -> dict:
            self.calls += 1
            return dict(mIoU=float(self.calls))

    return RisingMetric()


def make_runner(work_dir, hook_type=HOOK, max_iters=4, interval=2,
                max_keep_ckpts=1, save_best='mIoU', resume=False, **hook_kw):
    """A tiny runner: validation and a checkpoint every ``interval``
    iterations, the checkpoint hook of type ``hook_type`` (more of its
    arguments: ``hook_kw``)."""
    import mmseg_lrp.plugin  # noqa: F401 (registers the hook)
    from mmengine.dataset import pseudo_collate
    from mmengine.runner import Runner
    from mmseg_lrp.utils import register_checkpoint_loader
    register_checkpoint_loader()  # resume on torch >= 2.6
    loader = dict(batch_size=3, shuffle=False, collate_fn=pseudo_collate)
    return Runner(
        model=_make_model(),
        work_dir=str(work_dir),
        experiment_name=f'ckpt_{uuid.uuid4().hex[:8]}',
        train_dataloader=DataLoader(ToyDataset(), **loader),
        val_dataloader=DataLoader(ToyDataset(), **loader),
        val_evaluator=[_make_metric()],
        train_cfg=dict(by_epoch=False, max_iters=max_iters,
                       val_interval=interval),
        val_cfg=dict(),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        default_hooks=dict(
            checkpoint=dict(type=hook_type, by_epoch=False,
                            interval=interval, max_keep_ckpts=max_keep_ckpts,
                            save_best=save_best, rule='greater',
                            **hook_kw)),
        default_scope='mmseg',
        log_level='WARNING',
        resume=resume)


def _load(path):
    from mmseg_lrp.utils import load_from_local
    return load_from_local(str(path), map_location='cpu')


def _last_checkpoint(work_dir):
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def _leftovers(work_dir):
    """Files that are neither checkpoints nor mmengine's run output."""
    return [f for f in os.listdir(work_dir)
            if 'tmp' in f or f.startswith('.')]


def _checkpoint_files(work_dir):
    return sorted(f for f in os.listdir(work_dir)
                  if f.endswith('.pth') or f == 'last_checkpoint')


@pytest.fixture
def failing_put(monkeypatch):
    """``install(match)``: the local file backend writes half of the bytes
    of a file whose name ``match`` accepts, then fails as a full disk."""
    from mmengine.fileio.backends import LocalBackend
    original = LocalBackend.put
    calls = []

    def install(match):

        def put(self, obj, filepath):
            name = osp.basename(str(filepath))
            if match(name):
                calls.append(name)
                with open(filepath, 'wb') as f:
                    f.write(obj[:len(obj) // 2])
                raise OSError(errno.ENOSPC, 'No space left on device',
                              str(filepath))
            return original(self, obj, filepath)

        monkeypatch.setattr(LocalBackend, 'put', put)
        return calls

    return install


def test_normal_run_writes_the_files_of_checkpoint_hook(tmp_path):
    """Same files, same last_checkpoint and the same bookkeeping in the
    checkpoints (keep_ckpt_ids, best_ckpt) as mmengine's CheckpointHook."""
    runs = {}
    for hook in ('CheckpointHook', HOOK):
        work = tmp_path / hook
        make_runner(work, hook).train()
        assert _leftovers(work) == []
        last = _load(work / 'iter_4.pth')['message_hub']['runtime_info']
        runs[hook] = dict(
            files=_checkpoint_files(work),
            last=osp.relpath(_last_checkpoint(work), work),
            keep=last['keep_ckpt_ids'],
            best=osp.relpath(last['best_ckpt'], work),
            best_score=last['best_score'],
            best_meta=_load(work / 'best_mIoU_iter_4.pth')['meta']['iter'])
    assert runs[HOOK] == runs['CheckpointHook']
    assert runs[HOOK]['files'] == ['best_mIoU_iter_4.pth', 'iter_4.pth',
                                   'last_checkpoint']
    assert runs[HOOK]['last'] == 'iter_4.pth'
    assert runs[HOOK]['keep'] == [4]


def test_published_checkpoints(tmp_path):
    """published_keys: the published copies (``iter_4-{sha}.pth``) are
    written through a temporary file too."""
    work = tmp_path / 'w'
    make_runner(work, published_keys=['meta', 'state_dict'],
                save_last=True).train()
    assert _leftovers(work) == []
    published = sorted(glob.glob(str(work / '*-*.pth')))
    assert [re.sub(r'-[0-9a-f]{8}', '-SHA', osp.basename(p))
            for p in published] == ['best_mIoU_iter_4-SHA.pth',
                                    'iter_4-SHA.pth']
    for path in published:
        assert sorted(_load(path)) == ['meta', 'state_dict']


def test_resume_after_atomic_run(tmp_path):
    """A run saved by the hook resumes (mmengine reads last_checkpoint)."""
    work = tmp_path / 'w'
    make_runner(work, max_iters=2).train()
    runner = make_runner(work, max_iters=4, resume=True)
    runner.train()
    assert runner.iter == 4
    # (the resumed metric starts again at 1: no new best)
    assert _checkpoint_files(work) == ['best_mIoU_iter_2.pth', 'iter_4.pth',
                                       'last_checkpoint']
    assert _load(work / 'iter_4.pth')['meta']['iter'] == 4


@pytest.mark.parametrize('target', ['iter_4.pth', 'best_mIoU_iter_4.pth'])
def test_disk_full_keeps_previous_checkpoints(tmp_path, failing_put, target):
    """ENOSPC half-way through writing ``target``: the error surfaces, the
    earlier checkpoints and last_checkpoint are untouched, no partial file
    is left."""
    work = tmp_path / 'w'
    pattern = re.compile(r'^\.?' + re.escape(target))
    calls = failing_put(lambda name: bool(pattern.match(name)))
    with pytest.raises(OSError) as err:
        make_runner(work).train()
    assert err.value.errno == errno.ENOSPC
    assert calls, 'the simulated full disk was not reached'
    assert _leftovers(work) == []
    if target == 'iter_4.pth':
        # nothing of iteration 4 was written
        assert _checkpoint_files(work) == [
            'best_mIoU_iter_2.pth', 'iter_2.pth', 'last_checkpoint']
        assert _last_checkpoint(work) == str(work / 'iter_2.pth')
        assert _load(work / 'iter_2.pth')['meta']['iter'] == 2
    else:
        # iter_4.pth is complete; the previous best is kept
        assert _checkpoint_files(work) == [
            'best_mIoU_iter_2.pth', 'iter_4.pth', 'last_checkpoint']
        assert _last_checkpoint(work) == str(work / 'iter_4.pth')
        assert _load(work / 'iter_4.pth')['meta']['iter'] == 4
    assert _load(work / 'best_mIoU_iter_2.pth')['meta']['iter'] == 2


def test_outdated_checkpoints_deleted_only_after_new_ones(
        tmp_path, monkeypatch):
    """max_keep_ckpts=1 and save_best: when iter_2.pth / best_mIoU_iter_2.pth
    is deleted, its successor is complete on disk and last_checkpoint
    already names the new checkpoint."""
    from mmengine.fileio.backends import LocalBackend
    work = tmp_path / 'w'
    original = LocalBackend.remove
    seen = []

    def remove(self, filepath):
        name = osp.basename(str(filepath))
        successor = {'iter_2.pth': 'iter_4.pth',
                     'best_mIoU_iter_2.pth': 'best_mIoU_iter_4.pth'}[name]
        new = work / successor
        seen.append((name, osp.isfile(new) and zipfile.is_zipfile(new),
                     osp.basename(_last_checkpoint(work))))
        return original(self, filepath)

    monkeypatch.setattr(LocalBackend, 'remove', remove)
    make_runner(work).train()
    assert sorted(seen) == [('best_mIoU_iter_2.pth', True, 'iter_4.pth'),
                            ('iter_2.pth', True, 'iter_4.pth')]
    assert _checkpoint_files(work) == ['best_mIoU_iter_4.pth', 'iter_4.pth',
                                       'last_checkpoint']


KILLED_SAVE = textwrap.dedent('''
    import os, os.path as osp, sys, time
    sys.path.insert(0, {tests!r})
    from mmengine.fileio.backends import LocalBackend
    from test_checkpoint_safety import make_runner

    original = LocalBackend.put

    def slow_put(self, obj, filepath):
        if 'iter_4.pth' in osp.basename(str(filepath)):
            with open(filepath, 'wb') as f:
                f.write(obj[:len(obj) // 2])
                f.flush()
                open({marker!r}, 'w').close()
                time.sleep(600)
        return original(self, obj, filepath)

    LocalBackend.put = slow_put
    make_runner({work!r}, {hook!r}).train()
''')


def test_killed_during_save_leaves_a_resumable_checkpoint(tmp_path):
    """SIGKILL while iter_4.pth is half written: iter_2.pth stays loadable,
    last_checkpoint names a complete checkpoint, and a resumed run (the
    hook cleans up the stale temporary file) reaches iteration 4."""
    work = str(tmp_path / 'w')
    marker = str(tmp_path / 'writing')
    script = tmp_path / 'killed_save.py'
    script.write_text(KILLED_SAVE.format(tests=TESTS_DIR, marker=marker,
                                         work=work, hook=HOOK))
    log = open(tmp_path / 'killed_save.log', 'w')
    proc = subprocess.Popen([sys.executable, str(script)], stdout=log,
                            stderr=subprocess.STDOUT,
                            env=dict(tool_env(), OMP_NUM_THREADS='1'))
    try:
        deadline = time.time() + 120
        while not osp.exists(marker):
            assert proc.poll() is None, (tmp_path /
                                         'killed_save.log').read_text()
            assert time.time() < deadline, 'the save never started'
            time.sleep(0.2)
        proc.send_signal(signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        log.close()
    assert proc.returncode == -signal.SIGKILL
    named = _last_checkpoint(work)
    assert osp.isfile(named) and zipfile.is_zipfile(named), named
    assert _load(named)['meta']['iter'] == 2
    assert _load(osp.join(work, 'iter_2.pth'))['meta']['iter'] == 2
    assert not osp.exists(osp.join(work, 'iter_4.pth'))
    runner = make_runner(work, resume=True)
    runner.train()
    assert runner.iter == 4
    assert _leftovers(work) == []
    assert _load(_last_checkpoint(work))['meta']['iter'] == 4


# --- work dir checks (mmseg_lrp.utils.work_dir) ---


def _fake_checkpoint(path, iteration=1):
    torch.save({'meta': {'iter': iteration}}, str(path))


def test_second_training_into_a_work_dir_is_refused(tmp_path):
    from mmseg_lrp.utils import WorkDirError, check_work_dir
    work = tmp_path / 'w'
    work.mkdir()
    (work / '20240101_000000').mkdir()  # logs alone do not count
    (work / 'config.py').write_text('')
    assert check_work_dir(str(work)) is False
    for name in ('best_mIoU_iter_2.pth', 'last_checkpoint'):
        other = tmp_path / name
        other.mkdir()
        (other / name).write_text('x')
        with pytest.raises(WorkDirError) as err:
            check_work_dir(str(other))
        msg = str(err.value)
        assert str(other) in msg and name in msg
        for way in ('--resume', '--work-dir', '--overwrite'):
            assert way in msg, msg
    _fake_checkpoint(work / 'iter_2.pth')
    with pytest.raises(WorkDirError, match='iter_2.pth'):
        check_work_dir(str(work))
    assert check_work_dir(str(work), overwrite=True) is False
    assert osp.isfile(work / 'iter_2.pth')  # --overwrite deletes nothing


def test_resume_without_checkpoint_is_refused(tmp_path):
    from mmseg_lrp.utils import WorkDirError, check_work_dir
    for work in (tmp_path / 'missing', tmp_path / 'empty'):
        if 'empty' in str(work):
            work.mkdir()
        with pytest.raises(WorkDirError) as err:
            check_work_dir(str(work), resume=True)
        msg = str(err.value)
        assert str(work) in msg and '--resume-if-present' in msg, msg
        # requeued jobs: start fresh when there is nothing to resume
        assert check_work_dir(str(work), resume_if_present=True) is False
        assert check_work_dir(str(work), resume=True,
                              resume_if_present=True) is False
    # an explicit checkpoint (load_from) needs no work dir checkpoint ...
    ckpt = tmp_path / 'elsewhere.pth'
    _fake_checkpoint(ckpt)
    assert check_work_dir(str(tmp_path / 'missing'), resume=True,
                          load_from=str(ckpt)) is True
    # ... but has to exist
    with pytest.raises(WorkDirError, match='nope.pth'):
        check_work_dir(str(tmp_path / 'missing'), resume=True,
                       load_from=str(tmp_path / 'nope.pth'))


def test_resume_with_broken_last_checkpoint_names_usable_ones(tmp_path):
    from mmseg_lrp.utils import WorkDirError, check_work_dir
    work = tmp_path / 'w'
    work.mkdir()
    for it in (2, 9, 10):
        _fake_checkpoint(work / f'iter_{it}.pth', it)
    (work / 'iter_11.pth').write_bytes(b'PK\x03\x04 cut off')  # partial
    (work / 'best_mIoU_iter_10.pth').write_bytes(b'')
    last = work / 'last_checkpoint'
    last.write_text(str(work / 'iter_10.pth'))
    assert check_work_dir(str(work), resume=True) is True
    assert check_work_dir(str(work), resume_if_present=True) is True
    for named, why in ((work / 'iter_12.pth', 'does not exist'),
                       (work / 'iter_11.pth', 'not a complete checkpoint'),
                       (work / 'best_mIoU_iter_10.pth', 'empty')):
        last.write_text(str(named))
        for kw in (dict(resume=True), dict(resume_if_present=True)):
            with pytest.raises(WorkDirError) as err:
                check_work_dir(str(work), **kw)
            msg = str(err.value)
            assert str(named) in msg and why in msg, msg
            # usable ones, newest iteration first, and how to resume
            assert re.search(r'iter_10\.pth.*iter_9\.pth.*iter_2\.pth', msg)
            assert 'iter_11.pth' not in msg.split(why)[1]
            assert ('--resume --cfg-options load_from='
                    f'{work / "iter_10.pth"}') in msg, msg
    last.unlink()  # checkpoints, but no last_checkpoint
    with pytest.raises(WorkDirError, match='no last_checkpoint'):
        check_work_dir(str(work), resume=True)


def test_train_tool_switches_checkpoint_hook():
    from mmengine.config import Config
    from mmseg_lrp.utils import use_atomic_checkpoints
    for hook_type in ('CheckpointHook', 'mmengine.CheckpointHook'):
        cfg = Config(dict(default_scope='mmseg', default_hooks=dict(
            checkpoint=dict(type=hook_type, interval=3))))
        assert use_atomic_checkpoints(cfg) is True
        assert cfg.default_hooks.checkpoint == dict(type=HOOK, interval=3)
    # built from mmseg's registry whatever the default scope
    cfg = Config(dict(default_hooks=dict(checkpoint=dict(
        type='CheckpointHook', _scope_='mmengine'))))
    assert use_atomic_checkpoints(cfg) is True
    assert cfg.default_hooks.checkpoint == dict(type=HOOK, _scope_='mmseg')
    from mmengine.registry import HOOKS
    from mmseg_lrp.engine.hooks import AtomicCheckpointHook
    assert isinstance(HOOKS.build(cfg.default_hooks.checkpoint),
                      AtomicCheckpointHook)
    for hooks in (dict(checkpoint=dict(type='MyHook')), dict(),
                  dict(checkpoint=None)):
        cfg = Config(dict(default_hooks=hooks))
        assert use_atomic_checkpoints(cfg) is False
        assert cfg.default_hooks == hooks


def test_plugin_configs_use_the_atomic_hook():
    from mmengine.config import Config
    found = 0
    for path in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'),
                          recursive=True):
        if '_base_' in path:
            continue
        hook = Config.fromfile(path).default_hooks.checkpoint
        assert hook.type == HOOK, path
        found += 1
    assert found > 40


def _train(*args):
    res = subprocess.run(tool_cmd('train.py', *args), stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True,
                         env=tool_env())
    return res.returncode, res.stdout


@pytest.mark.slow
def test_train_tool_work_dir_and_resume(toy_voc, tmp_path):
    """tools/train.py: --resume refused without a checkpoint; a plain
    CheckpointHook becomes AtomicCheckpointHook; --resume-if-present starts
    fresh; a second training refused; --resume with a cut-off checkpoint
    named. One short training, the other calls stop before building."""
    root, _ = toy_voc
    work = tmp_path / 'w'
    config = tmp_path / 'plain_hook.py'
    config.write_text(f'_base_ = [{BASELINE_CONFIG!r}]\n'
                      "default_hooks = dict(checkpoint=dict("
                      "type='CheckpointHook'))\n")
    opts = ['--cfg-options', *toy_cfg_options(root, 2, 2)]
    code, out = _train(config, '--work-dir', work, '--resume', *opts)
    assert code != 0 and str(work) in out and '--resume-if-present' in out
    assert 'Traceback' not in out, out[-3000:]

    code, out = _train(config, '--work-dir', work, '--resume-if-present',
                       *opts)
    assert code == 0, out[-4000:]
    assert 'CheckpointHook replaced by AtomicCheckpointHook' in out
    assert 'Iter(train) [2/2]' in out and 'resumed' not in out
    assert _checkpoint_files(work) == ['best_mIoU_iter_2.pth', 'iter_2.pth',
                                       'last_checkpoint']
    assert _leftovers(work) == []
    before = {f: os.stat(work / f).st_mtime_ns for f in os.listdir(work)}

    code, out = _train(config, '--work-dir', work, *opts)
    assert code != 0
    assert 'Traceback' not in out, out[-3000:]
    assert str(work) in out and 'iter_2.pth' in out and '--overwrite' in out
    assert before == {f: os.stat(work / f).st_mtime_ns
                      for f in os.listdir(work)}

    (work / 'iter_3.pth').write_bytes(b'')
    (work / 'last_checkpoint').write_text(str(work / 'iter_3.pth'))
    code, out = _train(config, '--work-dir', work, '--resume', *opts)
    assert code != 0 and 'Traceback' not in out, out[-3000:]
    assert str(work / 'iter_3.pth') in out
    assert f'--resume --cfg-options load_from={work / "iter_2.pth"}' in out
