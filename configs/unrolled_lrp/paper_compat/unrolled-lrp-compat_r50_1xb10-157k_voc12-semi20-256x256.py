# Unrolled-LRP ResNet-50 trained as the original code did, 20 pixel-labelled
# images (README.md here: what differs from the default configs). Starts
# from the checkpoint of the stage-1 config
# unrolled-lrp-compat_r50_1xb32-4900iter_voc12-cls-256x256.py and refuses
# to start without it (the split: make_voc_splits.py DATA_ROOT --num 20
# --protocol original):
#   tools/train.py CONFIG --cfg-options load_from=<stage 1>/iter_4900.pth
_base_ = [
    '../../_base_/models/unrolled-lrp_r50_paper-compat.py',
    '../../_base_/datasets/voc12-semi_paper-compat.py',
    'mmseg::_base_/default_runtime.py',
    '../../_base_/schedules/adamw-1e-5_157k_paper-compat.py',
]
custom_imports = dict(imports=['mmseg_lrp.plugin'], allow_failed_imports=False)
val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU']),
    dict(type='MultiLabelClsMetric'),
]
test_evaluator = val_evaluator
