# Semi-supervised VOC 2012 as the original code read it: the image-level pool
# leaves out the pixel-labelled ids (disjoint pools), boundary pixels (255)
# of the training masks count as background, pixel splits of the original's
# own draw (make_voc_splits.py --protocol original, seed 0), its
# augmentation parameters (albumentations: RandomCrop of the short side,
# Resize 256, Defocus radius 1-5 p 0.5, RandomBrightnessContrast always
# (+-20 %), ColorJitter(0.2, 0.2, 0.2, 0.2) p 0.5, HorizontalFlip, GaussNoise
# variance 10-50 p 0.5; the two colour transforms are approximated by mmseg's
# PhotoMetricDistortion with the same ranges), and the paper's evaluation
# (centre crop 256, 255 as background). The 20-image split; the leaf
# configs of the other budgets set pixel_split.
_base_ = ['./voc12-semi_paper-eval.py']
compat_train_pipeline = [
    dict(type='LoadCheckedImageFromFile'),
    dict(type='LoadSemiAnnotations'),
    dict(type='IgnoreToBackground'),  # pixel-labelled samples only
    dict(type='RandomSquareCrop'),
    dict(type='Resize', scale=(256, 256), keep_ratio=False),
    dict(type='RandomDefocusBlur', prob=0.5, radius=(1, 5)),
    dict(
        type='PhotoMetricDistortion',
        brightness_delta=51,
        contrast_range=(0.8, 1.2),
        saturation_range=(0.8, 1.2),
        hue_delta=36),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomGaussianNoise', prob=0.5, std=(3.2, 7.1)),
    dict(type='PackSemiSegInputs'),
]
compat_image_pool = dict(
    type='VOCImageLabelDataset',
    data_root={{_base_.data_root}},
    data_prefix=dict(img_path='JPEGImages'),
    exclude_files=['ImageSets/Segmentation/val.txt'],
    labels_file='ImageLabels.json',
    pipeline=compat_train_pipeline)
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='SemiVOCDataset',
        pixel_split='ImageSets/SemiSeg/original_20_seed0.txt',
        disjoint_pools=True,
        datasets=[
            dict(
                type='VOCPixelLabelDataset',
                data_root={{_base_.data_root}},
                data_prefix=dict(
                    img_path='JPEGImages', seg_map_path='SegmentationClass'),
                pipeline=compat_train_pipeline),
            compat_image_pool,
        ]))
