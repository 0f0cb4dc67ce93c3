# unrolled-lrp_r50_1xb10-20k_voc12-semi20-256x256.py with 1464 pixel-labelled
# images (the paper-protocol split of
# tools/dataset_converters/make_voc_splits.py, seed 0); the same mixed 5 + 5
# batches, recipe and evaluation unchanged.
_base_ = ['./unrolled-lrp_r50_1xb10-20k_voc12-semi20-256x256.py']
train_dataloader = dict(
    dataset=dict(pixel_split='ImageSets/SemiSeg/paper_1464_seed0.txt'))
