# Ablation of the tie: the toy unrolled-LRP model whose decoder has its own
# copy of every weighted encoder layer (tie=False), starting from the
# stage-1 weights (load_from) and trained by the segmentation loss alone,
# while the encoder and classifier learn from both losses as before. At
# the start its heatmaps are exactly the tied model's; what it gains over
# the tied model is what the tie costs (docs/guidance.md).
_base_ = ['./unrolled-lrp_r18-cifar-c16_1xb8-300iter_toyvoc-semi-64x64.py']
model = dict(decode_head=dict(tie=False))
