# Toy supervised UNet: the ResNet-18-CIFAR-c16 encoder with a UNet decoder
# (skips from the stages at 1/8, 1/4, 1/2, then one more upsampling to the
# input), trained on the pixel-labelled split only (batches of 8
# pixel-labelled samples; the image-level pool is never read).
_base_ = [
    '../_base_/models/unet_r50.py',
    './_base_/toy_recipe.py',
]
model = dict(
    data_preprocessor=dict(size={{_base_.crop_size}}),
    backbone={{_base_.toy_resnet}},
    decode_head={{_base_.toy_unet_head}})
train_dataloader = dict(batch_sampler=dict(num_pixel_labelled=8))
