# Unrolled-LRP segmentor on mmpretrain's VisionTransformer, ViT-Base/16
# (ImageNet-21k pretrained, ImageNet-1k fine-tuned weights of mmpretrain; the
# position embedding is resized to the input's 16x16 patches when loaded).
# As unrolled-lrp_deit-s16.py otherwise.
_base_ = ['./unrolled-lrp_deit-s16.py']
model = dict(
    backbone=dict(
        arch='b',
        init_cfg=dict(
            checkpoint='https://download.openmmlab.com/mmclassification/v0/vit/finetune/vit-base-p16_in21k-pre-3rdparty_ft-64xb64_in1k-384_20210928-98e8652b.pth')),
    decode_head=dict(in_channels=768))
