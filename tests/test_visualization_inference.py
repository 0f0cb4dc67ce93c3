"""Heatmap rendering, the LRPHeatmapHook, tools/infer.py and
tools/visualize_heatmaps.py on a briefly trained toy model."""
import glob
import os.path as osp
import subprocess

import mmcv
import numpy as np
import pytest
import torch
from PIL import Image

import mmseg_lrp.plugin  # noqa: F401
from conftest import SEMI_CONFIG, semi_cfg_options, tool_cmd, tool_env
from mmseg_lrp.visualization import colorize, heatmap_row, present_classes


def run(cmd):
    res = subprocess.run(cmd, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, env=tool_env())
    return res.returncode, res.stdout


def test_colour_map_and_present_classes():
    rgb = colorize(np.array([0.0, 0.5, 1.0]))
    assert rgb[0].tolist() == [0, 0, 255]  # blue
    assert rgb[2].tolist() == [255, 0, 0]  # red
    assert rgb[1].min() >= 250  # white
    assert present_classes(np.array([[0, 3], [255, 3]]), None) == [0, 3]


def test_heatmap_row_layout():
    from mmseg.visualization import SegLocalVisualizer
    vis = SegLocalVisualizer(name='test_row')
    img = np.zeros((16, 20, 3), np.uint8)
    logits = torch.zeros(3, 16, 20)
    logits[2, :, :10] = 5  # class 2 on the left half
    gt = np.zeros((16, 20), np.int64)
    gt[:, :10] = 2
    row = heatmap_row(vis, img, logits, ['bg', 'a', 'b'],
                      [[0, 0, 0], [255, 0, 0], [0, 255, 0]], gt=gt)
    # input, truth, prediction, heatmaps of classes 0 and 2: 5 panels
    assert row.shape == (16 + 14, 5 * 20 + 4 * 2, 3)
    heat_b = row[14:, 4 * 22:4 * 22 + 20]
    assert (heat_b[:, :10, 0] > 200).all() and (heat_b[:, :10, 2] < 60).all()
    assert (heat_b[:, 10:, 2] > 200).all()  # 1/3 probability: blue side


@pytest.fixture(scope='module')
def trained(toy_semi, tmp_path_factory):
    """Two iterations with validation (and the heatmap hook) after each."""
    work = str(tmp_path_factory.mktemp('vis') / 'work')
    code, out = run(
        tool_cmd('train.py', SEMI_CONFIG, '--work-dir', work,
                 '--cfg-options', *semi_cfg_options(toy_semi, 2, 1),
                 'custom_hooks.0.indices=[0,1]'))
    assert code == 0, out[-4000:]
    return toy_semi, work


@pytest.mark.slow
def test_heatmap_hook_writes_rows_and_evolution(trained):
    _, work = trained
    for it in (1, 2):
        files = sorted(glob.glob(osp.join(work, 'heatmaps', f'iter_{it}',
                                          '*.png')))
        assert len(files) == 2
    strips = sorted(glob.glob(osp.join(work, 'heatmaps', '*_evolution.png')))
    assert len(strips) == 2
    one = mmcv.imread(sorted(glob.glob(
        osp.join(work, 'heatmaps', 'iter_1', '*.png')))[0])
    strip = mmcv.imread(strips[0])
    assert strip.shape[0] >= 2 * one.shape[0]  # a row per validation
    # and the visualizer's local backend received them
    assert glob.glob(osp.join(work, '*', 'vis_data', 'vis_image',
                              'heatmaps*'))


@pytest.mark.slow
def test_infer_tool_and_python_api(trained, tmp_path):
    root, work = trained
    ckpt = osp.join(work, 'iter_2.pth')
    img = img_of(root)
    code, out = run(tool_cmd('infer.py', SEMI_CONFIG, ckpt, img, '--out',
                             tmp_path / 'o', '--device', 'cpu',
                             '--save-logits'))
    assert code == 0, out[-3000:]
    name = osp.splitext(osp.basename(img))[0]
    pred = np.array(Image.open(tmp_path / 'o' / f'{name}_pred.png'))
    heat = np.load(tmp_path / 'o' / f'{name}_heatmaps.npy')
    h, w = mmcv.imread(img).shape[:2]
    assert pred.shape == (h, w) and heat.shape == (7, h, w)
    assert (pred == heat.argmax(0)).all()
    assert (tmp_path / 'o' / f'{name}_heatmaps.png').exists()
    assert 'classifier:' in out
    # the Python API gives the same segmentation and heatmaps
    from mmseg_lrp.apis import inference_model, init_model
    model = init_model(SEMI_CONFIG, ckpt, device='cpu')
    with torch.no_grad():
        res = inference_model(model, img)
    np.testing.assert_allclose(res.seg_logits.data.numpy(), heat, rtol=1e-4,
                               atol=1e-6)
    assert res.pred_img_logits.data.shape == (7, )


@pytest.mark.slow
def test_infer_tool_errors(trained, tmp_path):
    root, work = trained
    ckpt = osp.join(work, 'iter_2.pth')
    (tmp_path / 'empty').mkdir()
    code, out = run(tool_cmd('infer.py', SEMI_CONFIG, ckpt,
                             tmp_path / 'empty', '--out', tmp_path / 'o'))
    assert code != 0 and 'holds no image' in out and 'empty' in out
    # broken, tiny and large images: tests/test_bad_inputs.py
    # a checkpoint trained for 7 classes, a config for 21
    cfg21 = tmp_path / 'k21.py'
    cfg21.write_text(f'_base_ = [{SEMI_CONFIG!r}]\n'
                     'model = dict(decode_head=dict(num_classes=21))\n')
    code, out = run(tool_cmd('infer.py', cfg21, ckpt, img_of(root),
                             '--out', tmp_path / 'o'))
    assert code != 0
    assert f'{ckpt}: decode_head.conv_seg.weight' in out
    assert 'the checkpoint is for 7 classes, the config for 21' in out


def img_of(root):
    return sorted(glob.glob(osp.join(root, 'JPEGImages', '*.jpg')))[0]


@pytest.mark.slow
def test_visualize_tool_stacks_checkpoints(trained, tmp_path):
    root, work = trained
    ckpts = [osp.join(work, f'iter_{i}.pth') for i in (1, 2)]
    opts = ['--device', 'cpu', '--cfg-options',
            f'val_dataloader.dataset.data_root={root}']
    code, out = run(tool_cmd('visualize_heatmaps.py', SEMI_CONFIG, *ckpts,
                             '--out', tmp_path / 'v', '--indices', 0, 1,
                             *opts))
    assert code == 0, out[-3000:]
    strips = sorted(glob.glob(str(tmp_path / 'v' / '*.png')))
    assert len(strips) == 2
    code, out = run(tool_cmd('visualize_heatmaps.py', SEMI_CONFIG, ckpts[0],
                             '--out', tmp_path / 'v1', '--indices', 0,
                             *opts))
    assert code == 0, out[-3000:]
    (one, ) = glob.glob(str(tmp_path / 'v1' / '*.png'))
    h1 = mmcv.imread(one).shape[0]
    h2 = mmcv.imread(strips[0]).shape[0]
    assert h2 == 2 * h1  # one row per checkpoint
