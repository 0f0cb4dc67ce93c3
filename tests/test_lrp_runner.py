"""The unrolled-LRP model through mmseg's runner and the plugin's tools."""
import glob
import json
import os.path as osp
import subprocess

import pytest

from conftest import (ROOT, SEMI_CONFIG, semi_cfg_options, tool_cmd,
                      tool_env, toy_cfg_options)

LRP_CONFIG = osp.join(ROOT, 'configs', 'unrolled_lrp',
                      'unrolled-lrp_vgg16_1xb8-150iter_toyvoc-64x64.py')


@pytest.mark.slow
def test_train_iterations_validation_and_test(toy_voc, tmp_path):
    root, _ = toy_voc
    work = str(tmp_path / 'work')
    res = subprocess.run(
        tool_cmd('train.py', LRP_CONFIG, '--work-dir', work,
                 '--cfg-options', *toy_cfg_options(root, 2, 2)),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=tool_env())
    assert res.returncode == 0, res.stdout[-4000:]
    out = res.stdout
    # both loss terms and the decoded-sample count are logged
    for key in ('decode.loss_seg', 'decode.loss_cls',
                'decode.num_pixel_labelled'):
        assert key in out, key
    assert 'Iter(val) [8/8]' in out and 'mIoU' in out
    # (tools/test.py on a checkpoint: the semi-supervised test below)
    assert osp.isfile(osp.join(work, 'iter_2.pth'))


@pytest.mark.slow
def test_semi_supervised_training_and_test_with_classifier_metric(
        toy_semi, tmp_path):
    """The demo config: mixed batches through tools/train.py, then
    tools/test.py reports mIoU and the classifier's mAP/F1."""
    work = str(tmp_path / 'work')
    opts = semi_cfg_options(toy_semi, 2, 2)
    res = subprocess.run(
        tool_cmd('train.py', SEMI_CONFIG, '--work-dir', work,
                 '--cfg-options', *opts),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=tool_env())
    assert res.returncode == 0, res.stdout[-4000:]
    # one of the two samples of each batch is decoded
    assert res.stdout.count('decode.num_pixel_labelled: 1.0000') == 2
    res = subprocess.run(
        tool_cmd('test.py', SEMI_CONFIG, osp.join(work, 'iter_2.pth'),
                 '--work-dir', tmp_path / 't', '--cfg-options', *opts),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=tool_env())
    assert res.returncode == 0, res.stdout[-4000:]
    (metrics_file, ) = glob.glob(str(tmp_path / 't' / '*' / '*.json'))
    with open(metrics_file) as f:
        metrics = json.loads(f.readline())
    assert 0 <= metrics['mIoU'] <= 100
    assert 0 <= metrics['cls/mAP'] <= 100 and 'cls/F1' in metrics
    # the classes that occur in the masks of the split tested: the toy
    # configs test on the held-out test split (background left out)
    import numpy as np
    from PIL import Image
    with open(osp.join(toy_semi, 'ImageSets', 'Segmentation',
                       'test.txt')) as f:
        ids = f.read().split()
    present = set()
    for i in ids:
        mask = np.array(Image.open(
            osp.join(toy_semi, 'SegmentationClass', f'{i}.png')))
        present |= {int(c) for c in np.unique(mask) if 0 < c < 255}
    assert metrics['cls/num_classes'] == len(present) > 1


@pytest.mark.slow
def test_get_flops_on_lrp_model():
    res = subprocess.run(
        tool_cmd('analysis_tools/get_flops.py', LRP_CONFIG, '--shape', 64),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=tool_env())
    assert res.returncode == 0, res.stdout[-3000:]
    assert 'Flops:' in res.stdout and 'Params: 14.' in res.stdout
