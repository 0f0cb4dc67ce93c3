# Semi-supervised VOC 2012 with 20 pixel-labelled images (the paper-protocol
# split of tools/dataset_converters/make_voc_splits.py, seed 0) + the
# image-level pool; standard evaluation. Write the split first:
#   python tools/dataset_converters/make_voc_splits.py DATA_ROOT --num 20
_base_ = ['./voc12-semi.py']
train_dataloader = dict(
    dataset=dict(pixel_split='ImageSets/SemiSeg/paper_20_seed0.txt'))
