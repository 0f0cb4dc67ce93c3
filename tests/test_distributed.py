"""Distributed training on CPU (gloo): two processes through
tools/dist_train.sh, and the SyncBN LRP rule against a single-process BN."""
import glob
import json
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest
import torch
import torch.multiprocessing as mp

from conftest import ROOT, SEMI_CONFIG, semi_cfg_options, tool_env


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _bn_case():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4, 3, 5, 5, generator=g, dtype=torch.float64) * 2 + 1
    R = torch.randn(2, 4, 3, 5, 5, generator=g, dtype=torch.float64)
    bn = torch.nn.BatchNorm2d(3).double().train()
    with torch.no_grad():
        bn.weight.uniform_(0.5, 1.5, generator=g)
        bn.bias.uniform_(-1, 1, generator=g)
        y = bn(x)  # the output SyncBatchNorm gives for the whole batch
    return x, R, bn, y


def _syncbn_worker(rank, world, port, out):
    import torch.distributed as dist

    from mmseg_lrp.lrp.functional import batch_norm
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}',
                            rank=rank, world_size=world)
    x, R, bn, y = _bn_case()
    sync = torch.nn.SyncBatchNorm(3).double().train()
    sync.load_state_dict(bn.state_dict())
    part = slice(2 * rank, 2 * rank + 2)
    # SyncBatchNorm itself runs only on GPU; its rule needs only x and y
    xr = x[part].clone().requires_grad_(True)
    rin = batch_norm(sync, sync.weight, xr, y[part], R[:, part], 1e-12,
                     lambda t: t)
    rin.sum().backward()
    torch.save(dict(rin=rin.detach(), grad=xr.grad),
               osp.join(out, f'rank{rank}.pt'))
    # both ranks done with the backward's all_reduce before gloo is torn
    # down (a rank leaving early aborted the other now and then)
    dist.barrier()
    dist.destroy_process_group()


def test_syncbn_rule_uses_the_statistics_of_all_ranks(tmp_path):
    """Two ranks with half a batch each: the LRP relevance through
    SyncBatchNorm (and its gradient) equals that through a plain BN over the
    whole batch, computed in one process."""
    from mmseg_lrp.lrp.functional import batch_norm
    mp.spawn(_syncbn_worker, args=(2, free_port(), str(tmp_path)), nprocs=2)
    x, R, bn, y = _bn_case()
    xf = x.clone().requires_grad_(True)
    rin = batch_norm(bn, bn.weight, xf, y, R, 1e-12, lambda t: t)
    rin.sum().backward()
    for rank in (0, 1):
        got = torch.load(osp.join(tmp_path, f'rank{rank}.pt'))
        part = slice(2 * rank, 2 * rank + 2)
        torch.testing.assert_close(got['rin'], rin.detach()[:, part])
        torch.testing.assert_close(got['grad'], xf.grad[part])
    # without the gathering, a rank's own half gives other statistics
    half = batch_norm(bn, bn.weight, x[:2], y[:2], R[:, :2], 1e-12,
                      lambda t: t)
    assert not torch.allclose(half, rin.detach()[:, :2])


@pytest.mark.slow
def test_dist_train_two_cpu_processes(toy_semi, tmp_path):
    work = tmp_path / 'work'
    env = tool_env()
    env['PYTHONPATH'] = osp.join(ROOT, 'tests') + os.pathsep + env.get(
        'PYTHONPATH', '')
    env['PORT'] = str(free_port())
    env['PYTHON'] = sys.executable  # this environment's, not PATH's
    # custom_imports act when a config file is read: a child config adds
    # the probe hook
    config = tmp_path / 'probe_config.py'
    config.write_text(
        f'_base_ = [{SEMI_CONFIG!r}]\n'
        "custom_imports = dict(imports=['mmseg_lrp.plugin', 'dist_probe'])\n"
        "custom_hooks = [dict(type='DistProbeHook')]\n")
    opts = semi_cfg_options(toy_semi, 3, 3) + [
        'val_cfg=None', 'val_dataloader=None', 'val_evaluator=None'
    ]
    res = subprocess.run(
        ['bash', osp.join(ROOT, 'tools', 'dist_train.sh'), str(config), '2',
         '--work-dir', str(work), '--cfg-options', *opts],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
        cwd=str(tmp_path))
    assert res.returncode == 0, res.stdout[-5000:]
    probes = []
    for rank in (0, 1):
        with open(work / f'probe_rank{rank}.json') as f:
            probes.append(json.load(f))
    assert sorted(probes[0]) == sorted(probes[1]) == ['0', '1', '2']
    for it in probes[0]:
        a, b = probes[0][it]['ids'], probes[1][it]['ids']
        assert len(a) == len(b) == 2
        # per pool (slot 0 pixel-labelled, slot 1 image-level) the ranks
        # draw disjoint samples; an id may be in both pools (VOC's image
        # labels cover the pixel-labelled images too)
        assert a[0] != b[0] and a[1] != b[1], (it, a, b)
        for p in probes:
            assert torch.isfinite(torch.tensor(p[it]['loss']))
    # the pixel-labelled pool (6 ids) is shared out without repeats
    pix = [p[it]['ids'][0] for p in probes for it in p]
    assert len(set(pix)) == 6
    w0 = torch.load(work / 'weights_rank0.pt')
    w1 = torch.load(work / 'weights_rank1.pt')
    assert w0.keys() == w1.keys()
    for k in w0:
        torch.testing.assert_close(w0[k], w1[k], rtol=0, atol=0)
    # the checkpoint holds those weights and loads in a fresh process
    ckpt = str(work / 'iter_3.pth')
    from mmseg_lrp.utils import load_from_local
    state = load_from_local(ckpt, map_location='cpu')['state_dict']
    for k in w0:
        torch.testing.assert_close(state[k], w0[k], rtol=0, atol=0)
    test_opts = semi_cfg_options(toy_semi, 3, 3)
    res = subprocess.run(
        ['bash', osp.join(ROOT, 'tools', 'dist_test.sh'), SEMI_CONFIG, ckpt,
         '2', '--work-dir', str(tmp_path / 't'), '--cfg-options',
         *test_opts],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
        cwd=str(tmp_path))
    assert res.returncode == 0, res.stdout[-5000:]
    (metrics_file, ) = glob.glob(str(tmp_path / 't' / '*' / '*.json'))
    with open(metrics_file) as f:
        metrics = json.loads(f.readline())
    assert 0 <= metrics['mIoU'] <= 100 and 'cls/mAP' in metrics


def test_only_rank0_dumps_the_test_metrics(tmp_path, monkeypatch):
    """mmengine's LoggerHook writes the test metrics JSON on every rank into
    one file (a race that corrupted it in CI); after
    dump_test_metrics_once a non-zero rank logs without writing."""
    import mmengine.dist
    from mmengine.hooks import LoggerHook

    from mmseg_lrp.utils import dump_test_metrics_once

    class Proc:
        def get_log_after_epoch(self, runner, n, mode, with_non_scalar):
            return {'mIoU': 1.0}, 'mIoU: 1.0'

    class Log:
        def __init__(self):
            self.lines = []

        def info(self, s):
            self.lines.append(s)

    class FakeRunner:
        log_dir = str(tmp_path)
        test_dataloader = [0, 1]
        log_processor = Proc()
        logger = Log()

    runner = FakeRunner()
    for main, written in ((True, True), (False, False)):
        hook = LoggerHook()
        hook.json_log_path = f'rank_main_{main}.json'
        runner.hooks = [hook]
        monkeypatch.setattr(mmengine.dist, 'is_main_process', lambda: main)
        dump_test_metrics_once(runner)
        hook.after_test_epoch(runner, metrics={'mIoU': 1.0})
        assert (tmp_path / hook.json_log_path).exists() == written
    assert runner.logger.lines == ['mIoU: 1.0', 'mIoU: 1.0']  # both log
