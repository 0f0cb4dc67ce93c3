# Unrolled-LRP VGG16 as the original code (TW-autoencoder) trained it; every
# switch below is off in the default model (unrolled-lrp_vgg16.py) and the
# table in configs/unrolled_lrp/paper_compat/README.md says what each does.
_base_ = ['./unrolled-lrp_vgg16.py']
# torchvision's ImageNet VGG16, the file the original loads (through the
# pretrainedmodels package); TorchvisionPretrained maps its keys
vgg16_imagenet = 'https://download.pytorch.org/models/vgg16-397923af.pth'
model = dict(
    # input (x + 1) / 256, no ImageNet mean/std
    data_preprocessor=dict(
        mean=[-1.0, -1.0, -1.0], std=[256.0, 256.0, 256.0], size=(256, 256)),
    backbone=dict(
        init_cfg=dict(type='TorchvisionPretrained',
                      checkpoint=vgg16_imagenet)),
    decode_head=dict(
        # the decoder's own copies of the conv / linear weights, taken from
        # the ImageNet weights (the classifier's: random) and not reloaded
        tie='original',
        # divisions by z + eps whatever the sign of z (the original's
        # safe_divide, called with out_tensor + eps)
        stabilizer='shift',
        # torchvision's VGG classifier: 7x7 adaptive pool, fc6, fc7, fc8
        pool_size=7,
        fc_channels=(4096, 4096),
        fc_dropout=0.5,
        fc_init_cfg=dict(
            type='TorchvisionPretrained',
            checkpoint=vgg16_imagenet,
            part='classifier'),
        conv_rules=[
            # bias detached in z; at the classifier this is the release's
            # start relevance (the fc bias gets a gradient 1 / z~)
            dict(layers='classifier.*', type='epsilon', detach_bias=True),
            dict(layers='*', type='epsilon', detach_bias=True),
            dict(layers='*', type='batch_norm', detach_factors=True),
            dict(layers='*', type='winner_takes_all', overwrite=True),
        ],
        # multilabel soft-margin loss x batch size (10)
        loss_decode=dict(cls_weight=10.0)))
