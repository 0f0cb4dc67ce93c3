"""tools/analysis_tools/collect_results.py on mmengine-layout work dirs."""
import json
import os
import os.path as osp
import subprocess

import pytest

from conftest import tool_cmd, tool_env
from mmseg_lrp.utils.results import read_run, summarize


def fake_run(root, name, config, seed, split_len, vals, resumed=()):
    """A work dir as mmengine writes it: the config copy, and per start a
    timestamp folder with vis_data/{config.py, scalars.json} (train records
    without the metric, val records with it)."""
    wd = osp.join(root, f'{config}_seed{seed}')
    os.makedirs(wd)
    split = osp.join(root, f'{name}_split.txt')
    with open(split, 'w') as f:
        f.write(''.join(f'id{i}\n' for i in range(split_len)))
    text = (
        'train_dataloader = dict(dataset=dict(type="ConcatDataset", '
        'datasets=[dict(type="VOCPixelLabelDataset", data_root="", '
        f'ann_file={split!r}), dict(type="VOCImageLabelDataset")]))\n'
        f'randomness = dict(seed={seed})\n')
    open(osp.join(wd, f'{config}.py'), 'w').write(text)
    for stamp, records in (('20260101_000000', vals), ) + tuple(resumed):
        vis = osp.join(wd, stamp, 'vis_data')
        os.makedirs(vis)
        open(osp.join(vis, 'config.py'), 'w').write(text)
        with open(osp.join(vis, 'scalars.json'), 'w') as f:
            for step, miou in records:
                f.write(json.dumps(dict(loss=1.0, iter=step, step=step)) +
                        '\n')
                f.write(json.dumps({'mIoU': miou, 'cls/mAP': miou / 2,
                                    'time': 0.1, 'step': step}) + '\n')
    return wd


def test_best_value_grouped_over_seeds(tmp_path):
    root = str(tmp_path)
    a = fake_run(root, 'a', 'unrolled-lrp_vgg16_x_semi10', 0, 10,
                 [(100, 10.0), (200, 14.0)])
    # resumed once: the best (16.0) is in the second timestamp folder
    b = fake_run(root, 'b', 'unrolled-lrp_vgg16_x_semi10', 1, 10,
                 [(100, 12.0)], resumed=[('20260102_000000',
                                          [(200, 16.0), (300, 15.0)])])
    c = fake_run(root, 'c', 'unet-s4_fcn_x_sup30', 0, 30, [(100, 20.0)])
    runs = [read_run(d) for d in (a, b, c)]
    assert [(r['best'], r['step'], r['seed']) for r in runs] == [
        (14.0, 200, 0), (16.0, 200, 1), (20.0, 100, 0)]
    assert runs[0]['model'] == 'unrolled-lrp_vgg16'
    assert runs[0]['pixel_labels'] == 10 and runs[2]['pixel_labels'] == 30
    rows = summarize(runs, extra=['cls/mAP'])
    lrp = [r for r in rows if r['model'] == 'unrolled-lrp_vgg16'][0]
    assert lrp['runs'] == 2 and lrp['seeds'] == [0, 1]
    assert lrp['mean'] == pytest.approx(15.0)
    assert lrp['std'] == pytest.approx(2**0.5)  # sample std of 14 and 16
    assert lrp['cls/mAP'] == pytest.approx(7.5)

    res = subprocess.run(
        tool_cmd('analysis_tools/collect_results.py', a, b, c, '--extra',
                 'cls/mAP', '--out', tmp_path / 't.md'),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=tool_env())
    assert res.returncode == 0, res.stdout[-2000:]
    table = (tmp_path / 't.md').read_text()
    assert '| unrolled-lrp_vgg16 | 10 | 2 (0, 1) | 15.00 ± 1.41 | 7.50 |' \
        in table
    assert '| unet-s4_fcn | 30 | 1 (0) | 20.00 ± 0.00 | 10.00 |' in table


def test_not_a_work_dir_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        read_run(str(tmp_path))
