# The toy unrolled-LRP model on the small ViT (_base_/toy_vit.py): its
# stage-1 classifier (load_from=STAGE1.pth, the ViT's own stage 1) and the
# LRP-unrolled tied decoder through patch embedding, attention, LayerNorm
# and MLP, trained as the ResNet toy model is (same data, batches, loss,
# heatmap scale and bias, schedule; AdamW at the ViT's stage-1 rate).
_base_ = [
    './unrolled-lrp_r18-cifar-c16_1xb8-300iter_toyvoc-semi-64x64.py',
    './_base_/toy_vit.py'
]
model = dict(backbone={{_base_.toy_vit}}, decode_head=dict(in_channels=96))
optim_wrapper = dict(optimizer=dict(weight_decay=0.05))
