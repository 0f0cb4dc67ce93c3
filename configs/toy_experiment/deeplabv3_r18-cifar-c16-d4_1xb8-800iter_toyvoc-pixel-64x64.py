# Toy supervised DeepLabV3: the ResNet-18-CIFAR-c16 encoder made dilated
# (strides 2,2,1,1, dilations 1,1,2,4: output stride 4) with mmseg's ASPP
# head and FCN auxiliary head, trained on the pixel-labelled split only
# (batches of 8 pixel-labelled samples).
_base_ = [
    '../_base_/models/deeplabv3_r50-d8.py',
    './_base_/toy_recipe.py',
]
model = dict(
    data_preprocessor=dict(size={{_base_.crop_size}}),
    backbone=dict(
        type='mmpretrain.ResNet_CIFAR',
        depth=18,
        stem_channels=16,
        base_channels=16,
        strides=(2, 2, 1, 1),
        zero_init_residual=False),
    decode_head=dict(
        in_channels=128, channels=64, num_classes=7,
        init_cfg={{_base_.head_init}}),
    auxiliary_head=dict(
        in_channels=64, channels=32, num_classes=7,
        init_cfg={{_base_.head_init}}))
train_dataloader = dict(batch_sampler=dict(num_pixel_labelled=8))
