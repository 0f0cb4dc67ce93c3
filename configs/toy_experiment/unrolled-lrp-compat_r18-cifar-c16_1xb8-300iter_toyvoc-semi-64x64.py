# The toy unrolled LRP (unrolled-lrp_r18-cifar-c16_1xb8-300iter_toyvoc-semi-
# 64x64.py) with the paper-compat switches that apply to it
# (configs/unrolled_lrp/paper_compat/README.md): the original's tying (own
# decoder copies of the conv / linear weights taken at initialisation, i.e.
# before the stage-1 checkpoint is loaded: random weights here, as the toy
# has no ImageNet stage), bias and BN factors detached, the release's start
# relevance, 255 -> background in training masks, classification loss x
# batch size (8), disjoint pools, and the refusal to start without
# load_from. The toy recipe (z+ rules, heatmap scale and bias, augmentation
# at 64 px, split files) stays, so that a run paired with the default toy
# model (same stage-1 checkpoint, same split) isolates the switches. Not
# here: the input scaling (x + 1) / 256, which needs its own stage 1 (the
# shared toy stage 1 is trained on mean/std-normalised input), and the
# unpooling switch (the toy encoder has no max pool).
_base_ = ['./unrolled-lrp_r18-cifar-c16_1xb8-300iter_toyvoc-semi-64x64.py']
model = dict(
    decode_head=dict(
        tie='original',
        # divisions by z + eps whatever the sign of z (the original's
        # safe_divide, called with out_tensor + eps)
        stabilizer='shift',
        conv_rules=[
            dict(layers='classifier.*', type='epsilon', detach_bias=True),
            dict(layers='*', type='zplus'),
            dict(layers='*', type='batch_norm', detach_factors=True),
        ],
        loss_decode=dict(cls_weight=8.0)))
compat_train_pipeline = [
    dict(type='LoadCheckedImageFromFile'),
    dict(type='LoadSemiAnnotations'),
    dict(type='IgnoreToBackground'),  # pixel-labelled samples only
    dict(type='RandomSquareCrop'),
    dict(type='Resize', scale=(64, 64), keep_ratio=False),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='RandomDefocusBlur', prob=0.3, radius=(1, 2)),
    dict(type='RandomGaussianNoise', prob=0.3),
    dict(type='PackSemiSegInputs'),
]
train_dataloader = dict(
    dataset=dict(
        disjoint_pools=True,
        datasets=[
            dict(
                type='VOCPixelLabelDataset',
                data_root={{_base_.data_root}},
                metainfo={{_base_.toy_metainfo}},
                data_prefix=dict(
                    img_path='JPEGImages', seg_map_path='SegmentationClass'),
                pipeline=compat_train_pipeline),
            dict(
                type='VOCImageLabelDataset',
                data_root={{_base_.data_root}},
                metainfo={{_base_.toy_metainfo}},
                data_prefix=dict(img_path='JPEGImages'),
                exclude_files=['ImageSets/Segmentation/val.txt'],
                optional_exclude_files=['ImageSets/Segmentation/test.txt'],
                labels_file='ImageLabels.json',
                pipeline=compat_train_pipeline),
        ]))
custom_hooks = [dict(type='RequireCheckpointHook')]
