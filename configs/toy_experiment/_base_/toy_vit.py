# The small vision transformer of the toy ViT models (mmpretrain's
# VisionTransformer): 8x8 patches of the 64x64 image (64 tokens and a class
# token), 4 layers of width 96 with 4 heads. out_type='featmap': the head's
# pooling averages the patch tokens (mean pooling; 'cls_token' reads the
# class token instead, both are unrolled exactly).
# A config inherits this next to its ResNet counterpart and sets
# model.backbone={{_base_.toy_vit}}, decode_head.in_channels=96.
#
# Rules: the ViT family's (mmseg_lrp/lrp/archs/vit.py): attention with its
# probabilities constant on the value path, LayerNorm with 1/sigma constant,
# GELU passing relevance; plus the toy models' conv_rules (z+ on every conv
# and linear layer).
toy_vit = dict(
    _delete_=True,
    type='mmpretrain.VisionTransformer',
    arch=dict(
        embed_dims=96, num_layers=4, num_heads=4, feedforward_channels=192),
    img_size=64,
    patch_size=8,
    out_type='featmap',
    drop_rate=0.,
    drop_path_rate=0.)
