# Unrolled-LRP segmentor on mmpretrain's ResNet-50. Its ReLUs are in place by
# construction (no act_cfg), so the segmentor switches them to out-of-place.
_base_ = ['./unrolled-lrp_vgg16.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmpretrain.ResNet',
        depth=50,
        out_indices=(3, ),
        norm_cfg=dict(type='BN', requires_grad=True)),
    decode_head=dict(in_channels=2048),
    inplace_act='disable')
# Multi-GPU: sync_bn='torch' (e.g. --cfg-options sync_bn=torch) makes
# mmengine convert the BN layers to SyncBatchNorm under DDP; the decoder's BN
# rule then uses the statistics of all ranks, as the forward did. GPU only
# (torch's SyncBatchNorm does not run on CPU).
sync_bn = None
