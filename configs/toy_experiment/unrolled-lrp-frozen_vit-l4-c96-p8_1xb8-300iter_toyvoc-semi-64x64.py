# The no-guidance reference of the toy ViT model: its stage-1 classifier
# frozen (every layer, embeddings and final norm; frozen_stages=4) and only
# the per-class heatmap bias fitted, on the same data and schedule as
# unrolled-lrp_vit-l4-c96-p8_1xb8-300iter_toyvoc-semi-64x64.py.
_base_ = ['./unrolled-lrp_vit-l4-c96-p8_1xb8-300iter_toyvoc-semi-64x64.py']
model = dict(
    backbone=dict(frozen_stages=4), decode_head=dict(frozen=True))
