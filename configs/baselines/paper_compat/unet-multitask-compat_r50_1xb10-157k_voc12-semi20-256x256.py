# Multi-task UNet-R50 baseline as the original code trained it
# (models/baseline_multilabel.py, `--model mt_unet --semisup_dataset
# --add_classification`), 20 pixel-labelled images: the schedule, batches
# and data of the unrolled-LRP compat configs (5 pixel-labelled + 5
# image-level samples, disjoint pools, 255 -> background, AdamW 1e-5
# constant, 100 epochs = 156,800 iterations, validation every 3,000 images
# = 300 iterations keeping the best mIoU, input (x + 1) / 256) and their
# classification loss x batch size (10). The encoder and the classifier
# start from the stage-1 classifier:
#   tools/train.py CONFIG --cfg-options model.backbone.init_cfg.type=Pretrained \
#     model.backbone.init_cfg.checkpoint=STAGE1.pth \
#     model.backbone.init_cfg.prefix=backbone. \
#     model.auxiliary_head.init_cfg.type=Pretrained \
#     model.auxiliary_head.init_cfg.checkpoint=STAGE1.pth \
#     model.auxiliary_head.init_cfg.prefix=decode_head.
_base_ = [
    '../../_base_/models/unet-multitask_r50.py',
    '../../_base_/datasets/voc12-semi_paper-compat.py',
    'mmseg::_base_/default_runtime.py',
    '../../_base_/schedules/adamw-1e-5_20k.py',
]
custom_imports = dict(imports=['mmseg_lrp.plugin'], allow_failed_imports=False)
# torchvision's ImageNet ResNet-50, the file the original loads (its encoder
# then takes the stage-1 classifier's weights, see above)
r50_imagenet = 'https://download.pytorch.org/models/resnet50-19c8e357.pth'
model = dict(
    data_preprocessor=dict(
        mean=[-1.0, -1.0, -1.0], std=[256.0, 256.0, 256.0], size=(256, 256)),
    backbone=dict(
        zero_init_residual=False,
        init_cfg=dict(type='TorchvisionPretrained', checkpoint=r50_imagenet)),
    decode_head=dict(dropout_ratio=0.0),
    auxiliary_head=dict(loss_decode=dict(cls_weight=10.0)))
train_cfg = dict(max_iters=156800, val_interval=300)
default_hooks = dict(
    checkpoint=dict(interval=3000, max_keep_ckpts=1, save_best='mIoU'))
val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU']),
    dict(type='MultiLabelClsMetric'),
]
test_evaluator = val_evaluator
