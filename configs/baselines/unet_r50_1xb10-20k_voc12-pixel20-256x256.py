# Supervised UNet-R50 baseline on VOC 2012 with 20 pixel-labelled images: the
# split file, augmentation, recipe (AdamW 1e-5, constant, 20k iterations,
# batch 10) and paper-protocol evaluation of the unrolled-LRP configs, but
# every batch is 10 pixel-labelled images (SemiSupervisedBatchSampler
# with num_pixel_labelled = batch_size never reads the image-level pool).
# ImageNet weights from mmpretrain; the paper starts from the stage-1
# classifier: --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/unrolled-lrp_r50_1xb10-16k_voc12-cls-256x256/best_cls_mAP_iter_N.pth
_base_ = [
    '../_base_/models/unet_r50.py',
    '../_base_/datasets/voc12-semi-20_paper-eval.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/adamw-1e-5_20k.py',
]
custom_imports = dict(imports=['mmseg_lrp.plugin'], allow_failed_imports=False)
model = dict(
    data_preprocessor=dict(size=(256, 256)),
    backbone=dict(
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmclassification/v0/resnet/resnet50_8xb32_in1k_20210831-ea4938fc.pth',
            prefix='backbone.')))
train_dataloader = dict(batch_sampler=dict(num_pixel_labelled=10))
