# The no-guidance reference of the toy experiment: the stage-1 classifier
# (load_from=STAGE1.pth) frozen, encoder and classifier alike (BN in eval
# mode, no weight moves), and only the per-class heatmap bias fitted on the
# same pixel labels, batches and schedule as the unrolled-LRP model. Its
# heatmaps are stage 1's; what it scores is what thresholding the stage-1
# heatmaps gives. The unrolled-LRP model's row means guidance only where it
# beats this one (and its heatmap AUROC, auroc/mean, rises while this one's
# stays flat).
_base_ = ['./unrolled-lrp_r18-cifar-c16_1xb8-300iter_toyvoc-semi-64x64.py']
# decode_head.frozen: no gradient to the classifier, heatmaps without
# autograd (a 300-iteration run: 84 s instead of 133 s on one core).
model = dict(
    backbone=dict(frozen_stages=4, norm_eval=True),
    decode_head=dict(frozen=True))
