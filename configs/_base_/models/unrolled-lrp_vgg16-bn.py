# Unrolled-LRP segmentor on mmpretrain's VGG16 with BatchNorm.
_base_ = ['./unrolled-lrp_vgg16.py']
model = dict(backbone=dict(norm_cfg=dict(type='BN', requires_grad=True)))
