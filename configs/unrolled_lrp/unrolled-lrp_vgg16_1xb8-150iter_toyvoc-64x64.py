# Unrolled-LRP VGG16 (random init: no ImageNet weights offline) on the toy
# VOC at 64x64, K=7: the CPU demo of `make demo`. All 8 samples of a batch
# carry pixel labels here; the semi-supervised mix of image- and
# pixel-labelled samples comes with the semi-supervised VOC data.
_base_ = [
    '../_base_/models/unrolled-lrp_vgg16.py',
    '../_base_/datasets/toy_voc_7cls.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_20k.py',
]
custom_imports = dict(imports=['mmseg_lrp.plugin'], allow_failed_imports=False)

crop_size = (64, 64)
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(num_classes=7))
train_pipeline = [
    dict(type='LoadCheckedImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(
        type='RandomResize',
        scale=(64, 64),
        ratio_range=(1.0, 1.5),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadCheckedImageFromFile'),
    dict(type='Resize', scale=(64, 64), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
train_dataloader = dict(batch_size=8, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

max_iters = 150
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, weight_decay=0.01))
param_scheduler = []
train_cfg = dict(max_iters=max_iters, val_interval=75)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=False, interval=75,
                    max_keep_ckpts=1, save_best='mIoU'))
randomness = dict(seed=0)
