# The no-guidance reference of the class-balance ablation: the frozen
# stage-1 classifier and its fitted heatmap bias, with the same weighted
# loss as unrolled-lrp-balanced (background pixels at 0.1).
_base_ = [
    './unrolled-lrp-frozen_r18-cifar-c16_1xb8-300iter_toyvoc-semi-64x64.py'
]
model = dict(
    decode_head=dict(
        loss_decode=dict(class_weight=[0.1, 1, 1, 1, 1, 1, 1])))
