# Stage 1 of the original code for the VGG16 model: classification only on
# the image-level pool (every VOC2012 image but the segmentation val set),
# batch 32, 10 epochs, the original's input scaling and augmentation; the
# last checkpoint (iter_4900.pth) starts the stage-2 configs here. No
# decoder runs in stage 1, so the model is tied (the untied decoder of
# stage 2 then starts from ImageNet weights, as in the original).
_base_ = [
    '../../_base_/models/unrolled-lrp_vgg16_paper-compat.py',
    '../../_base_/datasets/voc12-semi_paper-compat.py',
    'mmseg::_base_/default_runtime.py',
    '../../_base_/schedules/adamw-1e-5_4900iter_paper-compat-cls.py',
]
custom_imports = dict(imports=['mmseg_lrp.plugin'], allow_failed_imports=False)
model = dict(
    decode_head=dict(
        tie=True, loss_decode=dict(seg_weight=0.0, cls_weight=1.0)))
train_dataloader = dict(
    batch_size=32,
    batch_sampler=None,  # plain batches of the image-level pool alone
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        datasets=[{{_base_.compat_image_pool}}]))
val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU']),
    dict(type='MultiLabelClsMetric'),
]
test_evaluator = val_evaluator
