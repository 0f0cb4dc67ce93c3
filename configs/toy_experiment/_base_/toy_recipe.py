# The shared recipe of the toy side-by-side experiment
# (tools/analysis_tools/toy_experiment.py): every model has the same small
# encoder (mmpretrain ResNet-18 with 16 base channels, random init: no
# ImageNet weights offline), 64x64 crops, batch 8, AdamW 1e-3 constant,
# validation at the middle and the end, best val mIoU kept.
_base_ = [
    '../../_base_/datasets/toy_voc-semi.py',
    'mmseg::_base_/default_runtime.py',
    '../../_base_/schedules/adamw-1e-5_20k.py',
]
crop_size = (64, 64)
toy_resnet = dict(
    type='mmpretrain.ResNet',
    depth=18,
    stem_channels=16,
    base_channels=16,
    out_indices=(0, 1, 2, 3),
    norm_cfg=dict(type='BN', requires_grad=True))
max_iters = 500
optim_wrapper = dict(optimizer=dict(lr=1e-3))
train_cfg = dict(max_iters=max_iters, val_interval=max_iters // 2)
default_hooks = dict(
    logger=dict(interval=25),
    checkpoint=dict(interval=max_iters // 2, max_keep_ckpts=1))
randomness = dict(seed=0)
