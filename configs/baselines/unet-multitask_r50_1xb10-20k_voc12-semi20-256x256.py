# Multi-task UNet-R50 baseline on VOC 2012 with 20 pixel-labelled images:
# the same mixed batches as the unrolled-LRP model (5 pixel-labelled + 5
# image-level), split file, augmentation, recipe (AdamW 1e-5, constant, 20k
# iterations) and paper-protocol evaluation. Segmentation loss on the
# pixel-labelled samples, classification loss (aux.loss_cls) on all.
# ImageNet weights from mmpretrain; the paper's protocol starts from the
# stage-1 classifier (backbone and classifier):
#   --cfg-options model.backbone.init_cfg.checkpoint=STAGE1.pth \
#     model.auxiliary_head.init_cfg.type=Pretrained \
#     model.auxiliary_head.init_cfg.checkpoint=STAGE1.pth \
#     model.auxiliary_head.init_cfg.prefix=decode_head.
_base_ = [
    '../_base_/models/unet-multitask_r50.py',
    '../_base_/datasets/voc12-semi-20_paper-eval.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/adamw-1e-5_20k.py',
]
custom_imports = dict(imports=['mmseg_lrp.plugin'], allow_failed_imports=False)
model = dict(
    data_preprocessor=dict(size=(256, 256)),
    backbone=dict(
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmclassification/v0/resnet/resnet50_8xb32_in1k_20210831-ea4938fc.pth',
            prefix='backbone.')))
val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU']),
    dict(type='MultiLabelClsMetric'),
]
test_evaluator = val_evaluator
