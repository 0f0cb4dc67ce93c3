# Unrolled-LRP VGG16-BN on semi-supervised VOC 2012: 20 pixel-labelled images
# (paper-protocol split) + the image-level pool, batches of 5 + 5, 256x256,
# the original recipe (AdamW 1e-5, constant, 20k iterations), evaluated with
# the paper's protocol (voc12-semi-20.py for the standard one). Starts from
# mmpretrain's ImageNet weights; the paper starts from the stage-1 classifier:
#   --cfg-options load_from=work_dirs/unrolled-lrp_vgg16-bn_1xb10-16k_voc12-cls-256x256/best_cls_mAP_iter_N.pth
_base_ = [
    '../_base_/models/unrolled-lrp_vgg16-bn.py',
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
            checkpoint='https://download.openmmlab.com/mmclassification/v0/vgg/vgg16_bn_batch256_imagenet_20210208-7e55cd29.pth',
            prefix='backbone.')))
val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU']),
    dict(type='MultiLabelClsMetric'),
]
test_evaluator = val_evaluator
custom_hooks = [
    dict(type='LRPHeatmapHook', indices=[0, 1, 2]),
]
