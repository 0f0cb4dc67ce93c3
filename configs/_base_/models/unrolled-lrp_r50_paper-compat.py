# Unrolled-LRP ResNet-50 as the original code trained it (torchvision's
# ResNet-50 classifier: global average pooling + fc); the switches of
# unrolled-lrp_vgg16_paper-compat.py.
_base_ = ['./unrolled-lrp_vgg16_paper-compat.py']
# torchvision's ImageNet ResNet-50, the file the original loads
r50_imagenet = 'https://download.pytorch.org/models/resnet50-19c8e357.pth'
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmpretrain.ResNet',
        depth=50,
        out_indices=(3, ),
        norm_cfg=dict(type='BN', requires_grad=True),
        # torchvision's weights as they are (mmpretrain would zero the last
        # BN of each block after a non-mmpretrain init)
        zero_init_residual=False,
        init_cfg=dict(type='TorchvisionPretrained', checkpoint=r50_imagenet)),
    decode_head=dict(
        in_channels=2048,
        pool_size=1,
        fc_channels=(),
        fc_init_cfg=None,
        # the original's inverse bottlenecks call bn3 and the downsample BN
        # again, in train mode, on each of the 2 x 21 decoder passes of a
        # step (--iterative_gradients): their running statistics, which
        # every validation uses, come almost entirely from the last batch
        decoder_bn_passes=42),
    inplace_act='disable')
