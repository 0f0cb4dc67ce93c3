# Semi-supervised toy VOC (the embedded dataset, same layout as VOC 2012):
# a pixel-labelled pool from a split file of make_voc_splits.py and an
# image-level pool (every image except the segmentation val and test lists,
# labels from the XMLs via the ImageLabels.json cache), mixed 4 + 4 per batch
# by SemiSupervisedBatchSampler. K = 7 (background + the 6 toy classes; mmseg's
# label_map maps their VOC indices to 0..6). Augmentation as the original
# (square crop of the short side, resize, flip, photometric, defocus blur,
# Gaussian noise) at 64x64. Evaluation: standard protocol (full resolution,
# 255 ignored). Prepare: `make toy-data`.
data_root = 'data/toy_voc/VOC2012'
crop_size = (64, 64)
toy_metainfo = dict(classes=('background', 'aeroplane', 'bicycle', 'bird',
                             'car', 'cat', 'person'))
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
# the image-level pool, named so that derived configs can reuse it
image_pool = dict(
    type='VOCImageLabelDataset',
    data_root=data_root,
    metainfo=toy_metainfo,
    data_prefix=dict(img_path='JPEGImages'),
    exclude_files=['ImageSets/Segmentation/val.txt'],
    optional_exclude_files=['ImageSets/Segmentation/test.txt'],
    labels_file='ImageLabels.json',
    pipeline=train_pipeline)
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    batch_sampler=dict(
        type='SemiSupervisedBatchSampler', num_pixel_labelled=4),
    dataset=dict(
        type='SemiVOCDataset',
        pixel_split='ImageSets/SemiSeg/paper_30_seed0.txt',
        datasets=[
            dict(
                type='VOCPixelLabelDataset',
                data_root=data_root,
                metainfo=toy_metainfo,
                data_prefix=dict(
                    img_path='JPEGImages', seg_map_path='SegmentationClass'),
                pipeline=train_pipeline),
            image_pool,
        ]))
# mmseg tests one image at a time: image sizes differ within the val set
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='VOCPixelLabelDataset',
        data_root=data_root,
        metainfo=toy_metainfo,
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path='SegmentationClass'),
        ann_file='ImageSets/Segmentation/val.txt',
        pipeline=test_pipeline))
# tools/test.py reports on the held-out test split; recipes are chosen on val
test_dataloader = dict(
    val_dataloader,
    dataset=dict(
        val_dataloader['dataset'],
        ann_file='ImageSets/Segmentation/test.txt'))
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
