# Unrolled-LRP segmentor on mmpretrain's VGG16 (no BN). ImageNet weights:
# backbone.init_cfg=dict(type='Pretrained', checkpoint=..., prefix='backbone.')
custom_imports = dict(imports=['mmseg_lrp.plugin'], allow_failed_imports=False)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    # VGG16 halves the resolution 5 times
    test_cfg=dict(size_divisor=32))
model = dict(
    type='LRPEncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='mmpretrain.VGG',
        depth=16,
        num_classes=-1,
        # the decoder needs the conv outputs that in-place ReLUs overwrite
        act_cfg=dict(type='ReLU', inplace=False)),
    decode_head=dict(
        type='LRPTiedHead',
        in_channels=512,
        num_classes=21,
        epsilon=1e-8,
        loss_decode=dict(type='SegClsLoss', seg_weight=1.0, cls_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
