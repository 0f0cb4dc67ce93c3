# Toy experiment, supervised DeepLabV3: the ResNet-18-c16 encoder made
# dilated (output stride 8) with mmseg's ASPP head and FCN auxiliary head,
# trained on the pixel-labelled split only (batches of 8 pixel-labelled
# samples).
_base_ = [
    '../_base_/models/deeplabv3_r50-d8.py',
    './_base_/toy_recipe.py',
]
model = dict(
    data_preprocessor=dict(size={{_base_.crop_size}}),
    backbone=dict(
        depth=18, stem_channels=16, base_channels=16),
    decode_head=dict(in_channels=128, channels=64, num_classes=7),
    auxiliary_head=dict(in_channels=64, channels=32, num_classes=7))
train_dataloader = dict(sampler=dict(num_pixel_labelled=8))
