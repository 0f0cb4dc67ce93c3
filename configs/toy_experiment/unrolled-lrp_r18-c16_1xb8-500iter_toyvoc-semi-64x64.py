# Toy experiment, unrolled LRP (semi-supervised): the ResNet-18-c16
# classifier and its LRP-unrolled tied decoder, batches of 4 pixel-labelled
# + 4 image-level samples. The pixel split and seed come from
# tools/analysis_tools/toy_experiment.py (default: paper_30_seed0).
_base_ = [
    '../_base_/models/unrolled-lrp_r50.py',
    './_base_/toy_recipe.py',
]
model = dict(
    data_preprocessor=dict(size={{_base_.crop_size}}),
    backbone={{_base_.toy_resnet}},
    decode_head=dict(in_channels=128, num_classes=7, heatmap_scale='pixels'))
val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU']),
    dict(type='MultiLabelClsMetric'),
]
test_evaluator = val_evaluator
