# Unrolled-LRP segmentor on mmpretrain's VGG16 with BatchNorm.
_base_ = ['./unrolled-lrp_vgg16.py']
model = dict(backbone=dict(norm_cfg=dict(type='BN', requires_grad=True)))
# Multi-GPU: sync_bn='torch' (e.g. --cfg-options sync_bn=torch) makes
# mmengine convert the BN layers to SyncBatchNorm under DDP; the decoder's BN
# rule then uses the statistics of all ranks, as the forward did. GPU only
# (torch's SyncBatchNorm does not run on CPU).
sync_bn = None
