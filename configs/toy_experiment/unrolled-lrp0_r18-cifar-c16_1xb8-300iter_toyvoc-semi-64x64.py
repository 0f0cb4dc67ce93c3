# The toy unrolled-LRP model with the paper's rule: LRP-0 (= gradient x
# input) on every layer instead of z+ on the convolutions; everything else
# (heatmap bias, scale, schedule) as the toy config. Reported beside the
# chosen rule in the toy experiment.
_base_ = ['./unrolled-lrp_r18-cifar-c16_1xb8-300iter_toyvoc-semi-64x64.py']
model = dict(decode_head=dict(conv_rules=[]))
