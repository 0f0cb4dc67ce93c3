"""Every shipped config loads (with mmseg:: bases) and builds its model."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(
    p for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'),
                         recursive=True) if '_base_' not in p)


def test_there_are_configs():
    assert CONFIGS


@pytest.mark.parametrize('path', CONFIGS,
                         ids=[osp.relpath(p, ROOT) for p in CONFIGS])
def test_config_builds_and_runs_tensor_mode(path):
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    cfg = Config.fromfile(path)
    assert cfg.custom_imports.imports == ['mmseg_lrp.plugin']
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model = MODELS.build(cfg.model).eval()
    with torch.no_grad():
        out = model(torch.rand(1, 3, 64, 96), mode='tensor')
    assert out.shape[:2] == (1, model.decode_head.num_classes)
    if 'unrolled-lrp' in path or 'unet' in path:
        # heatmaps, and the UNets' decoders, are at the input resolution
        assert out.shape[2:] == (64, 96)
    else:  # e.g. DeepLabV3: logits at the output stride, as in mmseg
        h, w = out.shape[2:]
        assert 64 // h == 96 // w and 64 % h == 0 and 96 % w == 0
