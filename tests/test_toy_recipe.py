"""The toy configs of `make demo` learn: a short run on a fixed batch with
each config's own model, optimizer and parameter-wise learning rates."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config

import mmseg_lrp.plugin  # noqa: F401
from conftest import ROOT

TOY_DIR = osp.join(ROOT, 'configs', 'toy_experiment')
STAGE1 = osp.join(
    TOY_DIR, 'unrolled-lrp_r18-cifar-c16_1xb16-3000iter_toyvoc-cls-64x64.py')
LRP = osp.join(TOY_DIR,
               'unrolled-lrp_r18-cifar-c16_1xb8-300iter_toyvoc-semi-64x64.py')


def fixed_batch_losses(path, root, steps, key, batch_size=4):
    """``key`` of the loss at every step of ``steps`` optimizer steps on one
    fixed training batch of the config's own loader (pointed at ``root``)."""
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    cfg = Config.fromfile(path)
    train = cfg.train_dataloader
    for ds in train.dataset.datasets:
        ds.data_root = root
    if train.dataset.type == 'SemiVOCDataset':
        train.dataset.pixel_split = 'ImageSets/SemiSeg/paper_6_seed0.txt'
    train.batch_size = batch_size
    if train.get('batch_sampler'):
        train.batch_sampler.num_pixel_labelled = batch_size // 2
    train.num_workers = 0
    train.persistent_workers = False
    torch.manual_seed(0)
    data = next(iter(Runner.build_dataloader(train, seed=0)))
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    return [model.train_step(data, optim)[key].item() for _ in range(steps)]


@pytest.mark.slow
def test_lrp_config_segmentation_loss_falls(toy_semi):
    """The unrolled-LRP toy config (z+ rules, heatmap bias at 100x the
    learning rate) fits the masks of a fixed batch from random weights."""
    losses = fixed_batch_losses(LRP, toy_semi, 40, 'decode.loss_seg')
    assert min(losses) > 0
    assert sum(losses[-5:]) / 5 < 0.5 * losses[0], losses


@pytest.mark.slow
def test_stage1_config_classification_loss_falls(toy_semi):
    """The stage-1 config trains the classifier only (no pixel labels in
    its batches, loss_seg exactly 0) and fits a fixed batch's labels."""
    losses = fixed_batch_losses(STAGE1, toy_semi, 30, 'decode.loss_cls',
                                batch_size=8)
    assert sum(losses[-5:]) / 5 < 0.5 * losses[0], losses
    seg = fixed_batch_losses(STAGE1, toy_semi, 1, 'decode.loss_seg')
    assert seg == [0.0]
