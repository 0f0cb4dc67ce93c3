# The shared recipe of the toy configs (`make demo` and the side-by-side
# experiment, tools/analysis_tools/toy_experiment.py), on the embedded toy
# VOC (digits world, 64-80 px images): every model has the same small
# encoder, 64x64 crops, batch 8 (4 pixel-labelled + 4 image-level for the
# semi-supervised models, 8 pixel-labelled for the supervised ones), AdamW
# at a constant rate, regular validation (the curves), best val mIoU kept.
#
# The encoder: mmpretrain's ResNet-18 in its CIFAR form (3x3 stem, no max
# pool), 16 base channels, stride 2 in every stage (stages at 1/2 .. 1/16 of
# the input). ImageNet's 7x7 stride-2 stem + max pool leaves 1/4 of a 64 px
# image after two layers; a classifier built so memorised the training
# images (val mAP at chance) instead of learning digit strokes a few pixels
# wide. Random init (no ImageNet weights offline) with
# zero_init_residual=False: zero-initialised residual branches (an ImageNet
# large-batch trick) held a from-scratch classifier at chance for 1000+
# iterations. Stage 1 (the classifier on image labels) initialises every
# model.
_base_ = [
    '../../_base_/datasets/toy_voc-semi.py',
    'mmseg::_base_/default_runtime.py',
    '../../_base_/schedules/adamw-1e-5_20k.py',
]
crop_size = (64, 64)
toy_resnet = dict(
    type='mmpretrain.ResNet_CIFAR',
    depth=18,
    stem_channels=16,
    base_channels=16,
    strides=(2, 2, 2, 2),
    out_indices=(0, 1, 2, 3),
    zero_init_residual=False,
    norm_cfg=dict(type='BN', requires_grad=True))
# Output layers (segmentation logits, classifiers) start at PyTorch's
# default init: mmseg's Normal(std=0.01) on conv_seg, with AdamW at 1e-3 for
# a thousand iterations, kept UNet and FCN heads at predicting background
# everywhere (the background bias grows before the tiny weights can single
# out the 5-10 % foreground pixels); this init learns the foreground of a
# batch within 100 iterations.
head_init = dict(
    type='Kaiming',
    a=5**0.5,
    mode='fan_in',
    nonlinearity='leaky_relu',
    distribution='uniform',
    override=dict(name='conv_seg'))
# The toy UNet decoder (UNet and multi-task UNet): one decoder block per
# encoder stage, 64..16 channels.
toy_unet_head = dict(
    in_channels=[16, 32, 64, 128],
    dec_channels=(64, 32, 16, 16),
    num_classes=7,
    init_cfg=head_init)
max_iters = 800
val_interval = 100
optim_wrapper = dict(optimizer=dict(lr=1e-3))
train_cfg = dict(max_iters=max_iters, val_interval=val_interval)
default_hooks = dict(
    logger=dict(interval=25),
    checkpoint=dict(interval=max_iters, max_keep_ckpts=1))
randomness = dict(seed=0)
