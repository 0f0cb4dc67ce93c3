# The embedded toy VOC (tools/dataset_converters/make_toy_voc.py): the exact
# PASCAL VOC 2012 layout, read by mmseg's own PascalVOCDataset. Images are
# 96-128 px on each side, so there is no resize; training crops 96x96.
_base_ = ['mmseg::_base_/datasets/pascal_voc12.py']

data_root = 'data/toy_voc/VOC2012'
crop_size = (96, 96)
train_pipeline = [
    dict(type='LoadCheckedImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(
        type='RandomResize',
        scale=(128, 128),
        ratio_range=(0.75, 1.5),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadCheckedImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
# mmseg tests one image at a time: image sizes differ within the val set
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
