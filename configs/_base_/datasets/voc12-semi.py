# Semi-supervised PASCAL VOC 2012 as in the original protocol: image-level
# pool = every VOC2012 JPEG except the 1449 segmentation-val images (labels
# from Annotations/*.xml, cached in ImageLabels.json by
# tools/dataset_converters/voc_image_labels.py); pixel-labelled pool = a split
# file of tools/dataset_converters/make_voc_splits.py (20/100/500/1464 of
# the segmentation train list, SegmentationClass masks, not SBD); batches of
# 10 = 5 pixel-labelled + 5 image-level; augmentation: random square crop of
# the short side, resize 256, flip, brightness/contrast/colour jitter,
# defocus blur, Gaussian noise. The pixel-labelled ids are also in the image
# pool; the original kept the pools disjoint (disjoint_pools=True does that,
# as the paper_compat configs do).
# Evaluation here: the standard protocol (full resolution, 255 ignored). The
# paper's protocol is voc12-semi_paper-eval.py. Per label budget:
# voc12-semi-{20,100,500,1464}[_paper-eval].py.
data_root = 'data/VOCdevkit/VOC2012'
crop_size = (256, 256)
train_pipeline = [
    dict(type='LoadCheckedImageFromFile'),
    dict(type='LoadSemiAnnotations'),
    dict(type='RandomSquareCrop'),
    dict(type='Resize', scale=crop_size, keep_ratio=False),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='RandomDefocusBlur', prob=0.3, radius=(1, 3)),
    dict(type='RandomGaussianNoise', prob=0.3),
    dict(type='PackSemiSegInputs'),
]
test_pipeline = [
    dict(type='LoadCheckedImageFromFile'),
    dict(type='LoadSemiAnnotations'),
    dict(type='PackSemiSegInputs'),
]
# the paper's evaluation protocol (used by the *_paper-eval.py configs):
# centre square crop resized to 256x256, 255 counted as background
paper_test_pipeline = [
    dict(type='LoadCheckedImageFromFile'),
    dict(type='LoadSemiAnnotations'),
    dict(type='CenterSquareCrop'),
    dict(type='Resize', scale=(256, 256), keep_ratio=False),
    dict(type='IgnoreToBackground'),
    dict(type='ResetOriShape'),
    dict(type='PackSemiSegInputs'),
]
# the image-level pool, named so that derived configs can reuse it
image_pool = dict(
    type='VOCImageLabelDataset',
    data_root=data_root,
    data_prefix=dict(img_path='JPEGImages'),
    exclude_files=['ImageSets/Segmentation/val.txt'],
    labels_file='ImageLabels.json',
    pipeline=train_pipeline)
train_dataloader = dict(
    batch_size=10,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    batch_sampler=dict(
        type='SemiSupervisedBatchSampler', num_pixel_labelled=5),
    dataset=dict(
        type='SemiVOCDataset',
        pixel_split='ImageSets/SemiSeg/paper_1464_seed0.txt',
        datasets=[
            dict(
                type='VOCPixelLabelDataset',
                data_root=data_root,
                data_prefix=dict(
                    img_path='JPEGImages', seg_map_path='SegmentationClass'),
                pipeline=train_pipeline),
            image_pool,
        ]))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='VOCPixelLabelDataset',
        data_root=data_root,
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path='SegmentationClass'),
        ann_file='ImageSets/Segmentation/val.txt',
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
