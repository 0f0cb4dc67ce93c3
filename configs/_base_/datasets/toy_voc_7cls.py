# The toy VOC restricted to its 7 classes (background + the 6 toy classes):
# mmseg's label_map maps their VOC indices to 0..6 (any other index -> 255),
# so models need K=7 outputs instead of 21.
_base_ = ['./toy_voc.py']
toy_metainfo = dict(classes=('background', 'aeroplane', 'bicycle', 'bird',
                             'car', 'cat', 'person'))
train_dataloader = dict(dataset=dict(metainfo=toy_metainfo))
val_dataloader = dict(dataset=dict(metainfo=toy_metainfo))
test_dataloader = val_dataloader
