# A small UNet (4 stages, 16 base channels, random init) with an FCN head on
# the toy VOC: the CPU baseline of `make demo`. Trains in a few minutes on
# 2 CPU cores.
_base_ = [
    'mmseg::_base_/models/fcn_unet_s5-d16.py',
    '../_base_/datasets/toy_voc.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_20k.py',
]
custom_imports = dict(imports=['mmseg_lrp.plugin'], allow_failed_imports=False)

crop_size = (96, 96)
norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(
    size=crop_size,
    # whole-image testing on sizes that are not multiples of the UNet's
    # total stride: pad to a multiple of 8 (the prediction is cropped back)
    test_cfg=dict(size_divisor=8))
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(
        base_channels=16,
        num_stages=4,
        strides=(1, 1, 1, 1),
        enc_num_convs=(2, 2, 2, 2),
        dec_num_convs=(2, 2, 2),
        downsamples=(True, True, True),
        enc_dilations=(1, 1, 1, 1),
        dec_dilations=(1, 1, 1),
        norm_cfg=norm_cfg),
    decode_head=dict(
        in_channels=16,
        in_index=3,
        channels=16,
        num_classes=21,
        norm_cfg=norm_cfg),
    auxiliary_head=None,
    test_cfg=dict(mode='whole'))

max_iters = 800
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=3e-3, weight_decay=0.01))
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-5, power=0.9, begin=0, end=max_iters,
         by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=400)
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=False,
                    interval=400, max_keep_ckpts=1, save_best='mIoU'))
randomness = dict(seed=0)
