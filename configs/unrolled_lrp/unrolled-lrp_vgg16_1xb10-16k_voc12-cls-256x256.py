# Stage 1 of the original protocol: fine-tune the VGG16 classifier for
# classification only, on the image-level pool (every VOC2012 image but the
# segmentation val set, labels from the XMLs), from mmpretrain's ImageNet
# weights; 16k iterations at batch 10 are about 10 epochs of the 15,676
# images. No sample has pixel labels, so the LRP decoder never runs in
# training. Validation reports the classifier (cls/mAP, kept best) and the
# mIoU of the pure LRP heatmaps. Its checkpoint initialises the LRP models
# and the baselines (load_from / init_cfg).
_base_ = [
    '../_base_/models/unrolled-lrp_vgg16.py',
    '../_base_/datasets/voc12-semi_paper-eval.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/adamw-1e-5_20k.py',
]
custom_imports = dict(imports=['mmseg_lrp.plugin'], allow_failed_imports=False)
model = dict(
    data_preprocessor=dict(size=(256, 256)),
    backbone=dict(
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmclassification/v0/vgg/vgg16_batch256_imagenet_20210208-db26f1a5.pth',
            prefix='backbone.')),
    decode_head=dict(loss_decode=dict(seg_weight=0.0)))
train_dataloader = dict(
    batch_sampler=None,  # plain batches of the image-level pool alone
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        datasets=[{{_base_.image_pool}}]))
val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU']),
    dict(type='MultiLabelClsMetric'),
]
test_evaluator = val_evaluator
train_cfg = dict(max_iters=16000)
default_hooks = dict(checkpoint=dict(save_best='cls/mAP'))
custom_hooks = []
