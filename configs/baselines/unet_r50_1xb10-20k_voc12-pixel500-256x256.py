# unet_r50_1xb10-20k_voc12-pixel20-256x256.py with 500 pixel-labelled images
# (the paper-protocol split of tools/dataset_converters/make_voc_splits.py,
# seed 0); batches of 10 pixel-labelled images, recipe and evaluation
# unchanged.
_base_ = ['./unet_r50_1xb10-20k_voc12-pixel20-256x256.py']
train_dataloader = dict(
    dataset=dict(pixel_split='ImageSets/SemiSeg/paper_500_seed0.txt'))
