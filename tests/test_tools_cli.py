"""The plugin's tools end to end on the toy VOC: train -> resume -> test,
checkpoint loading on torch >= 2.6, FLOPs, benchmark, clear errors."""
import glob
import json
import os.path as osp
import pickle
import subprocess

import numpy as np
import pytest
import torch

from conftest import (BASELINE_CONFIG, ROOT, tool_cmd, tool_env,
                      toy_cfg_options)


def _run(cmd, expect_ok=True):
    res = subprocess.run(cmd, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, env=tool_env())
    if expect_ok:
        assert res.returncode == 0, res.stdout[-4000:]
    return res


@pytest.fixture(scope='module')
def trained(toy_voc, tmp_path_factory):
    """Train 2 iterations, then resume to 4 with --resume."""
    root, _ = toy_voc
    work = str(tmp_path_factory.mktemp('work'))
    first = _run(tool_cmd('train.py', BASELINE_CONFIG, '--work-dir', work,
                          '--cfg-options', *toy_cfg_options(root, 2, 2)))
    resumed = _run(tool_cmd('train.py', BASELINE_CONFIG, '--work-dir', work,
                            '--resume', '--cfg-options',
                            *toy_cfg_options(root, 4, 2)))
    return root, work, first.stdout, resumed.stdout


@pytest.mark.slow
def test_plain_torch_load_refuses_mmengine_checkpoint(trained):
    """The problem the plugin fixes: torch >= 2.6 defaults to weights_only."""
    _, work, _, _ = trained
    with pytest.raises(pickle.UnpicklingError):
        torch.load(osp.join(work, 'iter_2.pth'))


@pytest.mark.slow
def test_resume_continues_from_checkpoint(trained):
    _, work, first, resumed = trained
    assert 'Iter(train) [2/2]' in first
    assert 'resumed epoch: 0, iter: 2' in resumed, resumed[-3000:]
    assert 'Iter(train) [3/4]' in resumed
    assert 'Iter(train) [1/4]' not in resumed
    from mmseg_lrp.utils import load_from_local
    ckpt = load_from_local(osp.join(work, 'iter_4.pth'))
    assert ckpt['meta']['iter'] == 4
    # the message hub (HistoryBuffer, numpy arrays) survived the round trip
    hub = ckpt['message_hub']['log_scalars']['train/loss']
    assert np.isfinite(hub.mean())
    # weights moved on after resuming
    first = load_from_local(osp.join(work, 'iter_2.pth'))['state_dict']
    last = ckpt['state_dict']
    assert first.keys() == last.keys()
    assert any(not torch.equal(first[k], last[k]) for k in first)


@pytest.mark.slow
def test_test_tool_evaluates_checkpoint(trained, tmp_path):
    root, work, _, _ = trained
    ckpt = osp.join(work, 'iter_4.pth')
    res = _run(tool_cmd('test.py', BASELINE_CONFIG, ckpt, '--work-dir',
                        tmp_path, '--cfg-options',
                        *toy_cfg_options(root, 4, 2)))
    assert 'Load checkpoint from' in res.stdout
    (metrics_file, ) = glob.glob(str(tmp_path / '*' / '*.json'))
    with open(metrics_file) as f:
        metrics = json.loads(f.readline())
    assert 0 <= metrics['mIoU'] <= 100 and 0 < metrics['aAcc'] <= 100


@pytest.mark.slow
def test_test_tool_loads_exactly_the_saved_weights(trained):
    """The loader returns the tensors that the runner saved: compare with
    the model rebuilt from the checkpoint through mmengine's own API."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmengine.runner import load_checkpoint

    from mmseg.registry import MODELS
    from mmseg_lrp.utils import load_from_local, register_checkpoint_loader
    _, work, _, _ = trained
    register_checkpoint_loader()  # what the tools call (not on import)
    init_default_scope('mmseg')
    model = MODELS.build(Config.fromfile(BASELINE_CONFIG).model)
    load_checkpoint(model, osp.join(work, 'iter_4.pth'), strict=True)
    saved = load_from_local(osp.join(work, 'iter_4.pth'))['state_dict']
    for k, v in model.state_dict().items():
        assert torch.equal(v, saved[k]), k


def test_safe_loader_refuses_arbitrary_getattr(tmp_path):
    """Only HistoryBuffer's statistics functions may be resolved."""
    from mmseg_lrp.utils import load_from_local

    class Evil:

        def __reduce__(self):
            return getattr, (np.ndarray, 'tofile')

    path = str(tmp_path / 'evil.pth')
    torch.save({'x': Evil()}, path)
    with pytest.raises(pickle.UnpicklingError, match='getattr'):
        load_from_local(path)


def test_missing_checkpoint_is_named(tmp_path):
    from mmseg_lrp.utils import load_from_local
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        load_from_local(str(tmp_path / 'nope.pth'))


def test_get_flops_counts_the_baseline():
    import importlib.util
    from mmengine.config import Config
    spec = importlib.util.spec_from_file_location(
        'get_flops', osp.join(ROOT, 'tools', 'analysis_tools',
                              'get_flops.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    get_flops = module.get_flops
    cfg = Config.fromfile(BASELINE_CONFIG)
    res = get_flops(cfg, [96, 64])
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model)
    model.auxiliary_head = None
    model_params = sum(p.numel() for p in model.parameters())
    assert res['params'] == model_params
    assert res['input_shape'] == (96, 64)
    # FLOPs scale with the number of pixels (fully convolutional)
    res2 = get_flops(cfg, [96, 128])
    assert res2['flops'] == pytest.approx(2 * res['flops'], rel=0.02)
