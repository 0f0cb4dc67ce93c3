# Unrolled LRP on a vision transformer (DeiT-S/16) on semi-supervised VOC 2012:
# 20 pixel-labelled images + the image-level pool, batches of 5 + 5,
# 256x256, AdamW 1e-5 (weight decay 0.05), 20k iterations, the paper's
# evaluation; as unrolled-lrp_r50_1xb10-20k_voc12-semi20-256x256.py with the
# deit-s16 backbone. Other budgets: train_dataloader.dataset.pixel_split=
# ImageSets/SemiSeg/paper_{100,500,1464}_seed0.txt. Starts from ImageNet
# weights; the paper's protocol starts from stage 1:
#   --cfg-options load_from=work_dirs/unrolled-lrp_deit-s16_1xb10-16k_voc12-cls-256x256/best_cls_mAP_iter_N.pth
# Not run: no VOC and no ImageNet weights on the development machine.
_base_ = [
    '../_base_/models/unrolled-lrp_deit-s16.py',
    '../_base_/datasets/voc12-semi-20_paper-eval.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/adamw-1e-5_20k.py',
]
custom_imports = dict(imports=['mmseg_lrp.plugin'], allow_failed_imports=False)
model = dict(data_preprocessor=dict(size=(256, 256)))
val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU']),
    dict(type='MultiLabelClsMetric'),
]
test_evaluator = val_evaluator
optim_wrapper = dict(optimizer=dict(weight_decay=0.05))
custom_hooks = [
    dict(type='LRPHeatmapHook', indices=[0, 1, 2]),
]
