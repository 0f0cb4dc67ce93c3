# Toy stage 1 (the paper's classifier pretraining, from scratch here): the
# ResNet-18-c16 classifier trained for classification only on the toy VOC's
# image-level pool. Its checkpoint initialises every model of the toy
# experiment (backbone.*; the LRP model also takes its classifier).
_base_ = [
    '../_base_/models/unrolled-lrp_r50.py',
    './_base_/toy_recipe.py',
]
model = dict(
    data_preprocessor=dict(size={{_base_.crop_size}}),
    backbone={{_base_.toy_resnet}},
    decode_head=dict(
        in_channels=128,
        num_classes=7,
        heatmap_scale='pixels',
        loss_decode=dict(seg_weight=0.0)))
train_dataloader = dict(
    sampler=dict(_delete_=True, type='InfiniteSampler', shuffle=True),
    dataset=dict(datasets=[{{_base_.image_pool}}]))
val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU']),
    dict(type='MultiLabelClsMetric'),
]
test_evaluator = val_evaluator
max_iters = 1500
train_cfg = dict(max_iters=max_iters, val_interval=500)
default_hooks = dict(checkpoint=dict(interval=500, save_best='cls/mAP'))
custom_hooks = []
