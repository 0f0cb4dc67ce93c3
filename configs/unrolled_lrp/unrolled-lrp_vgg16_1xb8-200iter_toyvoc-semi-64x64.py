# Unrolled-LRP VGG16 trained semi-supervised on the toy VOC at 64x64, K=7:
# batches of 4 pixel-labelled (30 images, paper-protocol split) + 4
# image-level samples. Random init (no ImageNet weights offline), so the
# heatmaps are scaled by the number of pixels before the loss
# (heatmap_scale='pixels'; predictions are unchanged by it): unscaled,
# random-init heatmaps are ~1/4096 of a logit apart and the segmentation loss
# stayed at ln 7 through a whole 20-iteration run (lr 1e-4). The CPU demo of
# `make demo` (about 8 minutes on 2 cores).
_base_ = [
    '../_base_/models/unrolled-lrp_vgg16.py',
    '../_base_/datasets/toy_voc-semi.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_20k.py',
]
custom_imports = dict(imports=['mmseg_lrp.plugin'], allow_failed_imports=False)

crop_size = (64, 64)
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(num_classes=7, heatmap_scale='pixels'))
val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU']),
    dict(type='MultiLabelClsMetric'),
]
test_evaluator = val_evaluator

max_iters = 200
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=5e-4, weight_decay=0.01))
param_scheduler = []
train_cfg = dict(max_iters=max_iters, val_interval=100)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=False,
                    interval=100, max_keep_ckpts=1, save_best='mIoU'))
# per-class heatmaps of three val images after every validation:
# work_dirs/.../heatmaps/{id}_evolution.png, and the visualizer's backends
custom_hooks = [
    dict(type='LRPHeatmapHook', indices=[0, 1, 2]),
]
randomness = dict(seed=0)
