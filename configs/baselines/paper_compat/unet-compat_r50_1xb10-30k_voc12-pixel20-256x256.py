# Supervised UNet-R50 baseline as the original code (TW-autoencoder 01d3932,
# models/baseline_multilabel.py, `--model std_unet`) trained it, 20
# pixel-labelled images: batches of min(N, 10) = 10 masks, AdamW 1e-5
# constant, 15,000 epochs of 2 batches = 30,000 iterations (its README's
# command), validation every 1,500 images (150 iterations) keeping the best
# mIoU, input (x + 1) / 256, 255 -> background in the training masks, the
# original's augmentation and its draw of the 20 images (make_voc_splits.py
# DATA_ROOT --num 20 --protocol original), the paper's evaluation (centre
# crop 256, 255 as background). The encoder starts from the stage-1
# classifier (the original loads it into the encoder; its decoder and head
# stay at their initialisation):
#   tools/train.py CONFIG --cfg-options model.backbone.init_cfg.type=Pretrained \
#     model.backbone.init_cfg.checkpoint=<stage 1>/iter_4900.pth \
#     model.backbone.init_cfg.prefix=backbone.
# (stage 1: configs/unrolled_lrp/paper_compat/unrolled-lrp-compat_r50_1xb32-
# 4900iter_voc12-cls-256x256.py). The UNet decoder is mmseg_lrp's UNetHead
# with smp's decoder widths (256 .. 16), not the original's symmetric smp
# decoder.
_base_ = [
    '../../_base_/models/unet_r50.py',
    '../../_base_/datasets/voc12-semi_paper-compat.py',
    'mmseg::_base_/default_runtime.py',
    '../../_base_/schedules/adamw-1e-5_20k.py',
]
custom_imports = dict(imports=['mmseg_lrp.plugin'], allow_failed_imports=False)
# torchvision's ImageNet ResNet-50, the file the original loads (its encoder
# then takes the stage-1 classifier's weights, see above)
r50_imagenet = 'https://download.pytorch.org/models/resnet50-19c8e357.pth'
model = dict(
    # input (x + 1) / 256, no ImageNet mean/std
    data_preprocessor=dict(
        mean=[-1.0, -1.0, -1.0], std=[256.0, 256.0, 256.0], size=(256, 256)),
    backbone=dict(
        zero_init_residual=False,
        init_cfg=dict(type='TorchvisionPretrained', checkpoint=r50_imagenet)),
    # smp's UNet decoder has no dropout
    decode_head=dict(dropout_ratio=0.0))
# every batch is 10 pixel-labelled images: the image-level pool is not read
train_dataloader = dict(
    batch_size=10, batch_sampler=dict(num_pixel_labelled=10))
train_cfg = dict(max_iters=30000, val_interval=150)
default_hooks = dict(
    checkpoint=dict(interval=3000, max_keep_ckpts=1, save_best='mIoU'))
