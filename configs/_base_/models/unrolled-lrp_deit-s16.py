# Unrolled-LRP segmentor on mmpretrain's VisionTransformer, DeiT-Small/16
# (ImageNet-1k weights of mmpretrain's DeiT; the position embedding is
# resized to the input's 16x16 patches when the weights are loaded). The
# head classifies the class token after the final LayerNorm, as DeiT does;
# the ViT family's rules unroll patch embedding, attention (probabilities
# constant), LayerNorm (1/sigma constant) and the GELU MLPs
# (mmseg_lrp/lrp/archs/vit.py, docs/model.md).
_base_ = ['./unrolled-lrp_vgg16.py']
model = dict(
    data_preprocessor=dict(test_cfg=dict(size_divisor=16)),
    backbone=dict(
        _delete_=True,
        type='mmpretrain.VisionTransformer',
        arch='deit-small',
        img_size=256,
        patch_size=16,
        out_type='cls_token',
        drop_path_rate=0.1,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmclassification/v0/deit/deit-small_pt-4xb256_in1k_20220218-9425b9bb.pth',
            prefix='backbone.')),
    decode_head=dict(in_channels=384))
