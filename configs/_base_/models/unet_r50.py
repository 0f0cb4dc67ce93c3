# UNet with a ResNet-50 encoder (the supervised baseline of the unrolled-LRP
# paper): mmpretrain's ResNet-50, the same backbone (and checkpoint keys
# backbone.*) as the unrolled-LRP R-50 and its stage-1 classifier, and a UNet
# decoder (UNetHead) with skips from the four stages (1/4..1/32) and two more
# upsampling stages back to the input resolution.
custom_imports = dict(imports=['mmseg_lrp.plugin'], allow_failed_imports=False)
norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    test_cfg=dict(size_divisor=32))
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        type='mmpretrain.ResNet',
        depth=50,
        out_indices=(0, 1, 2, 3),
        norm_cfg=norm_cfg),
    decode_head=dict(
        type='UNetHead',
        in_channels=[256, 512, 1024, 2048],
        in_index=(0, 1, 2, 3),
        dec_channels=(256, 128, 64, 32, 16),
        num_classes=21,
        dropout_ratio=0.1,
        norm_cfg=norm_cfg,
        align_corners=False,
        # mean over the labelled pixels, as the unrolled-LRP loss: in mixed
        # batches the image-level samples' masks are all 255
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0,
            avg_non_ignore=True)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
sync_bn = None
