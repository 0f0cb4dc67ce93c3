# voc12-semi.py evaluated with the paper's protocol: centre square crop of
# the short side resized to 256x256, boundary pixels (255) counted as
# background, mIoU over 21 classes at 256x256. NOT the standard VOC protocol:
# say which one a number uses.
_base_ = ['./voc12-semi.py']
paper_test_pipeline = [
    dict(type='LoadCheckedImageFromFile'),
    dict(type='LoadSemiAnnotations'),
    dict(type='CenterSquareCrop'),
    dict(type='Resize', scale=(256, 256), keep_ratio=False),
    dict(type='IgnoreToBackground'),
    dict(type='ResetOriShape'),
    dict(type='PackSemiSegInputs'),
]
val_dataloader = dict(dataset=dict(pipeline=paper_test_pipeline))
test_dataloader = val_dataloader
