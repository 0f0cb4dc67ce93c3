# mmseg's DeepLabV3 R-50-D8 (ASPP head + FCN auxiliary head) on mmpretrain's
# ResNet-50 made dilated (strides 1,2,1,1, dilations 1,1,2,4: output stride
# 8), so the same ImageNet or stage-1 classifier checkpoint (keys backbone.*)
# initialises it as the unrolled-LRP R-50 and the UNets. mmseg's own config
# uses ResNetV1c (deep stem) from open-mmlab://resnet50_v1c, which no
# classifier of this comparison shares. BN instead of SyncBN (use
# sync_bn='torch' for multi-GPU).
_base_ = ['mmseg::_base_/models/deeplabv3_r50-d8.py']
custom_imports = dict(imports=['mmseg_lrp.plugin'], allow_failed_imports=False)
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    pretrained=None,
    data_preprocessor=dict(test_cfg=dict(size_divisor=8)),
    backbone=dict(
        _delete_=True,
        type='mmpretrain.ResNet',
        depth=50,
        strides=(1, 2, 1, 1),
        dilations=(1, 1, 2, 4),
        out_indices=(0, 1, 2, 3),
        norm_cfg=norm_cfg),
    decode_head=dict(
        num_classes=21,
        norm_cfg=norm_cfg,
        loss_decode=dict(avg_non_ignore=True)),
    auxiliary_head=dict(
        num_classes=21,
        norm_cfg=norm_cfg,
        loss_decode=dict(avg_non_ignore=True)))
sync_bn = None
