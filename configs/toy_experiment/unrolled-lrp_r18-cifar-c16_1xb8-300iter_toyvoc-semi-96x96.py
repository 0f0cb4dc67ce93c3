# Ablation of the input size: the toy unrolled-LRP model trained and
# evaluated at 96x96 instead of 64x64 (the stage-1 classifier stays the
# 64x64 one). The encoder's last stage is then a 6x6 grid instead of 4x4,
# and the photographed textures keep more of their detail, so the
# heatmaps can resolve finer borders (docs/guidance.md, section 6).
_base_ = ['./unrolled-lrp_r18-cifar-c16_1xb8-300iter_toyvoc-semi-64x64.py']
crop_size = (96, 96)
train_pipeline = [
    dict(type='LoadCheckedImageFromFile'),
    dict(type='LoadSemiAnnotations'),
    dict(type='RandomSquareCrop'),
    dict(type='Resize', scale=crop_size, keep_ratio=False),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='RandomDefocusBlur', prob=0.3, radius=(1, 2)),
    dict(type='RandomGaussianNoise', prob=0.3),
    dict(type='PackSemiSegInputs'),
]
test_pipeline = [
    dict(type='LoadCheckedImageFromFile'),
    dict(type='Resize', scale=crop_size, keep_ratio=True),
    dict(type='LoadSemiAnnotations'),
    dict(type='PackSemiSegInputs'),
]
model = dict(data_preprocessor=dict(size=crop_size))
# the pixel-labelled and image-level pools as in the 64x64 config, at 96x96
train_dataloader = dict(
    dataset=dict(datasets=[
        dict(
            type='VOCPixelLabelDataset',
            data_root={{_base_.data_root}},
            metainfo={{_base_.toy_metainfo}},
            data_prefix=dict(
                img_path='JPEGImages', seg_map_path='SegmentationClass'),
            pipeline=train_pipeline),
        dict(
            type='VOCImageLabelDataset',
            data_root={{_base_.data_root}},
            metainfo={{_base_.toy_metainfo}},
            data_prefix=dict(img_path='JPEGImages'),
            exclude_files=['ImageSets/Segmentation/val.txt'],
            optional_exclude_files=['ImageSets/Segmentation/test.txt'],
            labels_file='ImageLabels.json',
            pipeline=train_pipeline),
    ]))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
