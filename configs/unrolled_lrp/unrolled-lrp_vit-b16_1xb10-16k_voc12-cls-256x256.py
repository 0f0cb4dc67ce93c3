# Stage 1 on a vision transformer (ViT-B/16, ../_base_/models/
# unrolled-lrp_vit-b16.py), as unrolled-lrp_r50_1xb10-16k_voc12-cls-256x256.py:
# fine-tune the ImageNet classifier for classification only on the
# image-level pool, 16k iterations at batch 10, AdamW 1e-5 (weight decay
# 0.05). Its checkpoint initialises the semi-supervised model (load_from).
# Not run: no VOC and no ImageNet weights on the development machine.
_base_ = [
    '../_base_/models/unrolled-lrp_vit-b16.py',
    '../_base_/datasets/voc12-semi_paper-eval.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/adamw-1e-5_20k.py',
]
custom_imports = dict(imports=['mmseg_lrp.plugin'], allow_failed_imports=False)
model = dict(
    data_preprocessor=dict(size=(256, 256)),
    decode_head=dict(loss_decode=dict(seg_weight=0.0)))
train_dataloader = dict(
    batch_sampler=None,  # plain batches of the image-level pool alone
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        datasets=[{{_base_.image_pool}}]))
val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU']),
    dict(type='MultiLabelClsMetric'),
]
test_evaluator = val_evaluator
optim_wrapper = dict(optimizer=dict(weight_decay=0.05))
train_cfg = dict(max_iters=16000)
default_hooks = dict(checkpoint=dict(save_best='cls/mAP'))
custom_hooks = []
