# Multi-task UNet (the second baseline of the unrolled-LRP paper): the UNet
# with a ResNet-50 encoder plus a multi-label classifier on the last stage
# (global average pooling + linear, the classifier of the unrolled-LRP model,
# with its loss: SegClsLoss's loss_cls, background weight 0), trained on the
# same mixed batches: segmentation loss on the pixel-labelled samples,
# classification loss on all. mmseg's EncoderDecoder with ImageClsHead as the
# auxiliary head (its loss is logged as aux.loss_cls), as
# MultiTaskEncoderDecoder, whose predict also returns the classifier's image
# logits for MultiLabelClsMetric (cls/mAP, as the unrolled-LRP model).
_base_ = ['./unet_r50.py']
model = dict(
    type='MultiTaskEncoderDecoder',
    auxiliary_head=dict(
        type='ImageClsHead',
        in_channels=2048,
        in_index=3,
        num_classes=21,
        dropout_ratio=0,
        loss_decode=dict(type='SegClsLoss', seg_weight=0.0, cls_weight=1.0)))
