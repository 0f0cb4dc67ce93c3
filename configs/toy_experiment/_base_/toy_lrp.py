# The unrolled-LRP model of the toy configs (stage 1 and stage 2 share it, so
# the stage-1 checkpoint has every key of the stage-2 model).
#
# Rules: z+ for every conv layer (conv_rules below). With LRP-0 (the paper's
# default, = gradient x input) the heatmaps of a trained toy classifier are
# noise on the background (per-pixel std 40-110 against object means of
# 3-120 at heatmap_scale='pixels'): the AUROC of a class's heatmap between
# its own pixels and background pixels was 0.54 on toy val images; with z+
# it was 0.90 (docs/toy_world.md). heatmap_bias: one learnt offset per class
# on the heatmap logits (background = no class has enough relevance), with
# a 100x learning rate so that it moves on the scale of the heatmaps.
_base_ = ['../../_base_/models/unrolled-lrp_r50.py', './toy_recipe.py']
model = dict(
    data_preprocessor=dict(size=(64, 64)),
    backbone={{_base_.toy_resnet}},
    decode_head=dict(
        in_channels=128,
        num_classes=7,
        heatmap_scale='pixels',
        heatmap_bias=True,
        conv_rules=[dict(layers='*', type='zplus')],
        init_cfg={{_base_.head_init}}))
# auroc/*: per-class heatmap AUROC (own pixels vs background, per image),
# the measure of guidance: it rises when the segmentation loss reshapes the
# heatmaps, it stays put when only the heatmap bias learns
val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU']),
    dict(type='MultiLabelClsMetric'),
    dict(type='HeatmapAUROCMetric'),
]
test_evaluator = val_evaluator
