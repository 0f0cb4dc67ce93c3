"""The runs of the toy experiment: ``tools/train.py`` calls, their test
evaluation with ``tools/test.py``, and a small scheduler."""
import glob
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import time
from typing import Callable, Dict, List, Optional, Sequence, Union

from mmseg_lrp.utils.results import read_run, val_records
from .data import split_file
from .models import (FROM_STAGE1, STAGE1_CONFIGS, TOOLS_DIR,
                     config_schedule, model_config)


class Run:
    """One ``tools/train.py`` call, and (``test=True``) a ``tools/test.py``
    call on its best checkpoint.

    Args:
        name: Log and report name.
        config: Config path.
        work_dir: Its work dir.
        options: ``--cfg-options``.
        iters: Its last iteration (the final validation's step).
        metric: The validation metric it is judged by.
        test: Also evaluate the best checkpoint on the test split.
        data_root: The data root of the test split (with ``test``).
        model: The experiment's model key (reported as ``model_name``).
        after: A run that must finish first (its stage-1 classifier).
        late_options: More ``--cfg-options``, computed when the run starts
            (the path of ``after``'s best checkpoint).
        seed: A stage-1 run's seed.
        arch: A stage-1 run's architecture (a key of
            :data:`models.STAGE1_CONFIGS`).
    """

    def __init__(self, name: str, config: str, work_dir: str,
                 options: List[str], iters: int, metric: str = 'mIoU',
                 test: bool = False, data_root: Optional[str] = None,
                 model: Optional[str] = None,
                 after: Optional['Run'] = None,
                 late_options: Optional[Callable[[], List[str]]] = None,
                 seed: Optional[int] = None,
                 arch: Optional[str] = None) -> None:
        self.name, self.config, self.work_dir = name, config, work_dir
        self.options, self.iters, self.metric = options, iters, metric
        self.test, self.data_root, self.model = test, data_root, model
        self.after, self.late_options = after, late_options
        self.seed, self.arch = seed, arch
        self.log_dir: Optional[str] = None  # else execute()'s
        self.world: Optional[str] = None  # printed, where several run

    @property
    def label(self) -> str:
        return f'{self.world}/{self.name}' if self.world else self.name

    @property
    def test_file(self) -> str:
        return osp.join(self.work_dir, 'test_metrics.json')

    def finished(self) -> bool:
        """Whether the final validation (iteration ``iters``) is logged
        (and, with ``test``, the test metrics written)."""
        done = any(rec.get('step') == self.iters
                   for rec in val_records(self.work_dir, self.metric))
        return done and (not self.test or osp.isfile(self.test_file))

    def command(self) -> List[str]:
        late = self.late_options() if self.late_options else []
        return [sys.executable, osp.join(TOOLS_DIR, 'train.py'),
                self.config, '--work-dir', self.work_dir,
                '--cfg-options'] + self.options + late

    def best_checkpoint(self) -> str:
        key = self.metric.replace('/', '_')
        found = glob.glob(osp.join(self.work_dir, f'best_{key}_iter_*.pth'))
        if not found:
            raise FileNotFoundError(f'{self.work_dir}: no best_{key}_iter_'
                                    '*.pth (the run did not finish)')
        return max(found, key=osp.getmtime)

    def test_command(self) -> List[str]:
        root = self.data_root
        return [sys.executable, osp.join(TOOLS_DIR, 'test.py'), self.config,
                self.best_checkpoint(), '--work-dir',
                osp.join(self.work_dir, 'test'), '--cfg-options',
                f'test_dataloader.dataset.data_root={root}',
                'test_dataloader.num_workers=0',
                'test_dataloader.persistent_workers=False']

    def collect_test(self) -> dict:
        """Read the metrics ``tools/test.py`` wrote, keep them in
        ``test_file``."""
        found = sorted(glob.glob(osp.join(self.work_dir, 'test', '*',
                                          '*.json')))
        if not found:
            raise FileNotFoundError(f'{self.work_dir}/test: no metrics')
        with open(found[-1]) as f:
            metrics = json.load(f)
        with open(self.test_file, 'w') as f:
            json.dump(metrics, f)
        return metrics

    def test_metrics(self) -> Optional[dict]:
        if not osp.isfile(self.test_file):
            return None
        with open(self.test_file) as f:
            return json.load(f)

    @property
    def wall_file(self) -> str:
        return osp.join(self.work_dir, 'wall_seconds.txt')

    def wall_seconds(self) -> Optional[float]:
        """Wall time of the call that finished the run (None if unknown)."""
        if not osp.isfile(self.wall_file):
            return None
        with open(self.wall_file) as f:
            return float(f.read())

    def result(self) -> dict:
        """:func:`read_run`'s summary, plus ``test`` (the test metrics, or
        None)."""
        res = read_run(self.work_dir, self.metric)
        res['test'] = self.test_metrics()
        res['name'] = self.name
        res['model_name'] = self.model
        return res


def data_options(root: str, pools: int) -> List[str]:
    opts = [f'train_dataloader.dataset.datasets.{i}.data_root={root}'
            for i in range(pools)]
    return opts + [f'val_dataloader.dataset.data_root={root}',
                   f'test_dataloader.dataset.data_root={root}']


def loader_options() -> List[str]:
    # one loader worker per run: the runs themselves share the cores
    return ['train_dataloader.num_workers=1',
            'val_dataloader.num_workers=0',
            'val_dataloader.persistent_workers=False']


def schedule_options(config: str, iters: Optional[int],
                     interval: Optional[int] = None,
                     lr: Optional[float] = None) -> List[str]:
    """``--cfg-options`` that set ``config``'s iterations (a scheduler that
    ends with the run, e.g. poly decay, is moved with it) and learning
    rate."""
    opts = [] if lr is None else [f'optim_wrapper.optimizer.lr={lr}']
    if iters is None:
        return opts
    from mmengine.config import Config
    cfg = Config.fromfile(config)
    interval = interval or cfg.train_cfg.val_interval
    opts += [f'train_cfg.max_iters={iters}',
             f'train_cfg.val_interval={interval}',
             f'default_hooks.checkpoint.interval={iters}']
    for i, sched in enumerate(cfg.get('param_scheduler') or []):
        if sched.get('end') == cfg.train_cfg.max_iters:
            opts.append(f'param_scheduler.{i}.end={iters}')
    return opts


def stage1_name(seed: int, arch: str = 'resnet') -> str:
    """Run name of a stage-1 classifier: ``stage1_seed{seed}`` (ResNet),
    ``stage1_{arch}_seed{seed}`` (the others)."""
    return (f'stage1_seed{seed}' if arch == 'resnet' else
            f'stage1_{arch}_seed{seed}')


def stage1_dir(seed: int, arch: str = 'resnet') -> str:
    """Work dir name of a stage-1 classifier: ``stage1`` / ``stage1_seed{s}``
    (ResNet), ``stage1_{arch}`` / ``stage1_{arch}_seed{s}`` (the others)."""
    base = 'stage1' if arch == 'resnet' else f'stage1_{arch}'
    return base if seed == 0 else f'{base}_seed{seed}'


def stage1_run(root: str, work_dir: str, seed: int = 0,
               iters: Optional[int] = None, arch: str = 'resnet') -> Run:
    """The stage-1 classifier of architecture ``arch`` (a key of
    :data:`models.STAGE1_CONFIGS`) on ``root``'s image-level pool."""
    if arch not in STAGE1_CONFIGS:
        raise ValueError(f'unknown stage-1 architecture {arch!r}; choose '
                         f'from {", ".join(STAGE1_CONFIGS)}')
    config = STAGE1_CONFIGS[arch]
    opts = data_options(root, 1)[:2] + loader_options() + [
        f'randomness.seed={seed}'
    ] + schedule_options(config, iters, max((iters or 0) // 3, 1)
                         if iters else None)
    return Run(stage1_name(seed, arch), config, work_dir, opts,
               iters or config_schedule(config)[1], metric='cls/mAP',
               seed=seed, arch=arch)


def stage1_options(model: str, ckpt: Optional[str]) -> List[str]:
    """``--cfg-options`` that start ``model`` from the stage-1 checkpoint
    ``ckpt``: the whole model where it shares the stage-1 model's keys,
    else its encoder (and the multi-task UNet's classifier)."""
    if not ckpt:
        return []
    if model in FROM_STAGE1:
        return [f'load_from={ckpt}']  # encoder and classifier
    opts = ['model.backbone.init_cfg.type=Pretrained',
            f'model.backbone.init_cfg.checkpoint={ckpt}',
            'model.backbone.init_cfg.prefix=backbone.']
    if model == 'unet-multitask':
        opts += ['model.auxiliary_head.init_cfg.type=Pretrained',
                 f'model.auxiliary_head.init_cfg.checkpoint={ckpt}',
                 'model.auxiliary_head.init_cfg.prefix=decode_head.']
    return opts


def model_run(model: str, root: str, work_dir: str, n: int, seed: int,
              stage1: Union[str, Run, None], iters: Optional[int] = None,
              lr: Optional[float] = None, interval: Optional[int] = None,
              test: bool = False, name: Optional[str] = None) -> Run:
    """One (model, budget, seed) run, from the stage-1 checkpoint: a path,
    or the stage-1 :class:`Run` (the run then waits for it and starts from
    its best checkpoint)."""
    config = model_config(model)
    opts = data_options(root, 2) + loader_options() + [
        f'train_dataloader.dataset.pixel_split={split_file(n, seed)}',
        f'randomness.seed={seed}',
    ] + schedule_options(config, iters, interval, lr)
    after = late = None
    if isinstance(stage1, Run):
        after = stage1
        late = lambda: stage1_options(  # noqa: E731
            model, stage1_checkpoint(stage1.work_dir))
    else:
        opts += stage1_options(model, stage1)
    return Run(name or f'{model}_n{n}_seed{seed}', config, work_dir, opts,
               iters or config_schedule(config)[1], test=test,
               data_root=root, model=model, after=after, late_options=late)


def execute(runs: Sequence[Run], jobs: int, threads: int,
            log_dir: str, force: bool = False) -> List[Run]:
    """Run ``runs`` with at most ``jobs`` at a time (each train call
    followed by its test call), in their order as far as the runs they
    wait for (:attr:`Run.after`) allow, so that the cores stay busy across
    worlds; stop at the first failure, naming its log. A run that starts
    while nothing else can run gets every job's threads. Returns the runs
    that were finished before (kept, not rerun)."""

    def environ(n: int) -> dict:
        return dict(os.environ, OMP_NUM_THREADS=str(n),
                    MKL_NUM_THREADS=str(n), PYTHONUNBUFFERED='1')

    todo = [r for r in runs if force or not r.finished()]
    done = set()  # ids of finished runs
    for r in runs:
        if r not in todo:
            done.add(id(r))
            print(f'  {r.label}: finished before, kept', flush=True)
    listed = {id(r) for r in runs}
    kept = set(done)

    def ready(r: Run) -> bool:
        # a run waits for its ``after`` while that is to run here
        return r.after is None or id(r.after) in done or (
            id(r.after) not in listed and r.after.finished())

    running: List[tuple] = []
    phase: Dict[int, str] = {}
    envs: Dict[int, dict] = {}
    while todo or running:
        while len(running) < jobs:
            ready_now = [r for r in todo if ready(r)]
            if not ready_now:
                if not running and todo:
                    raise RuntimeError(
                        f'{todo[0].label} waits for {todo[0].after.label}, '
                        'which did not finish')
                break
            r = ready_now[0]
            todo.remove(r)
            alone = not running and len(ready_now) == 1
            envs[id(r)] = environ(threads * jobs if alone else threads)
            # an unfinished run starts over (its logs would mix otherwise)
            shutil.rmtree(r.work_dir, ignore_errors=True)
            os.makedirs(r.log_dir or log_dir, exist_ok=True)
            log = open(osp.join(r.log_dir or log_dir, f'{r.name}.log'), 'w')
            proc = subprocess.Popen(r.command(), stdout=log,
                                    stderr=subprocess.STDOUT, env=envs[id(r)])
            phase[id(r)] = 'train'
            running.append((r, proc, log, time.time()))
        time.sleep(0.5)
        for item in list(running):
            r, proc, log, start = item
            if proc.poll() is None:
                continue
            running.remove(item)
            if proc.returncode:
                log.close()
                for _, other, _, _ in running:
                    other.kill()
                raise RuntimeError(
                    f'{r.label} failed in {phase[id(r)]} (exit '
                    f'{proc.returncode}), see {log.name}')
            if phase[id(r)] == 'train':
                with open(r.wall_file, 'w') as f:
                    f.write(f'{time.time() - start:.1f}')
                if r.test:
                    phase[id(r)] = 'test'
                    test = subprocess.Popen(r.test_command(), stdout=log,
                                            stderr=subprocess.STDOUT,
                                            env=envs[id(r)])
                    running.append((r, test, log, start))
                    continue
            log.close()
            done.add(id(r))
            best = read_run(r.work_dir, r.metric)
            text = (f'  {r.label}: best val {r.metric} {best["best"]:.2f} '
                    f'(iteration {best["step"]})')
            if r.test:
                test = r.collect_test()
                text += f', test mIoU {test.get("mIoU", float("nan")):.2f}'
            print(f'{text}, {time.time() - start:.0f} s', flush=True)
    return [r for r in runs if id(r) in kept]


def stage1_checkpoint(work_dir: str) -> str:
    found = glob.glob(osp.join(work_dir, 'best_cls_mAP_iter_*.pth'))
    if not found:
        raise FileNotFoundError(f'{work_dir}: no best_cls_mAP_iter_*.pth '
                                '(stage 1 did not finish)')
    return max(found, key=osp.getmtime)
