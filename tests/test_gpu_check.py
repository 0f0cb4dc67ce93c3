"""tools/gpu/check.sh, dry: its stage bookkeeping and its one JSON report."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

from conftest import ROOT


@pytest.mark.slow
@pytest.mark.skipif(torch.cuda.is_available(), reason='needs no GPU')
def test_check_records_failures_and_goes_on(tmp_path):
    """Without a GPU the CUDA oracle fails: the failure and its output are
    recorded, the stage that needs another is skipped, the rest runs, and
    the script says so in its exit status."""
    out = tmp_path / 'out'
    env = dict(os.environ, OUT=str(out), WORK=str(tmp_path / 'work'),
               STAGES='oracle test_fp32 env', DEVICE='cuda', QUICK='1',
               PYTHON=sys.executable)
    proc = subprocess.run(['bash', osp.join(ROOT, 'tools', 'gpu',
                                            'check.sh')],
                          env=env, capture_output=True, text=True,
                          timeout=300)
    report = json.loads((out / 'gpu_check.json').read_text())
    assert proc.returncode == 1
    assert report['summary'] == dict(ok=['env'], failed=['oracle'],
                                     timeout=[], skipped=['test_fp32'])
    oracle, skipped, env_stage = report['stages']
    assert 'NVIDIA driver' in oracle['output_tail'][-1]
    assert skipped['why'] == 'needs train_fp32 (not run)'
    assert env_stage['numbers']  # versions were collected
    assert (out / 'gpu_check.log').stat().st_size > 0
