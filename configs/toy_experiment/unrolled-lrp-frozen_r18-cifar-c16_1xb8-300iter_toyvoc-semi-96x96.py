# The no-guidance reference of the input-size ablation: the frozen stage-1
# classifier and its fitted heatmap bias at 96x96 (as
# unrolled-lrp-frozen at 64x64).
_base_ = ['./unrolled-lrp_r18-cifar-c16_1xb8-300iter_toyvoc-semi-96x96.py']
model = dict(
    backbone=dict(frozen_stages=4, norm_eval=True),
    decode_head=dict(frozen=True))
