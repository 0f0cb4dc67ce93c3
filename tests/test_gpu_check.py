"""tools/gpu/check.sh, dry: its stages on the CPU, its one JSON report."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

from conftest import ROOT


@pytest.mark.slow
def test_check_records_each_stage_and_goes_on(tmp_path):
    """The oracle runs (on the CPU here), a stage whose input is missing is
    recorded as skipped without ending the check, and the report holds
    every stage."""
    out = tmp_path / 'out'
    env = dict(os.environ, OUT=str(out), WORK=str(tmp_path / 'work'),
               STAGES='oracle test_fp32 env', DEVICE='cpu', QUICK='1',
               PYTHON=sys.executable)
    proc = subprocess.run(['bash', osp.join(ROOT, 'tools', 'gpu',
                                            'check.sh')],
                          env=env, capture_output=True, text=True,
                          timeout=300)
    report = json.loads((out / 'gpu_check.json').read_text())
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert report['summary']['ok'] == ['oracle', 'env']
    assert report['summary']['skipped'] == ['test_fp32']
    oracle = next(s for s in report['stages'] if s['name'] == 'oracle')
    for net in ('vgg16', 'resnet50'):
        assert oracle['numbers'][net]['max_rel_error'] < 1e-10
    assert (out / 'gpu_check.log').stat().st_size > 0
