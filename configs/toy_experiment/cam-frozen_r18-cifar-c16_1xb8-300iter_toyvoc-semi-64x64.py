# The CAM reference of the toy experiment: the same frozen stage-1
# classifier (load_from=STAGE1.pth), its class activation maps (classifier
# rows applied to the last feature map, 1/16 of the input, upsampled) as
# segmentation logits, and only the per-class bias fitted on the same pixel
# labels, batches and schedule as the unrolled-LRP model. CAMs are on the
# logit's scale (a map's mean is the logit): no 'pixels' factor.
_base_ = [
    './unrolled-lrp-frozen_r18-cifar-c16_1xb8-300iter_toyvoc-semi-64x64.py'
]
model = dict(
    decode_head=dict(
        _delete_=True,
        type='CAMHead',
        in_channels=128,
        num_classes=7,
        heatmap_bias=True,
        loss_decode=dict(type='SegClsLoss', seg_weight=1.0, cls_weight=1.0),
        init_cfg={{_base_.head_init}}))
# the classifier stays as stage 1 left it: learning rate 0
optim_wrapper = dict(
    paramwise_cfg=dict(
        custom_keys={
            'heatmap_bias': dict(lr_mult=100.0, decay_mult=0.0),
            'conv_seg': dict(lr_mult=0.0, decay_mult=0.0),
        }))
