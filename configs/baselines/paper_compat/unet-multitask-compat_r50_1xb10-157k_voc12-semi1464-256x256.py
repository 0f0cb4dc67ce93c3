# The 20-label config with all 1,464 masks of VOC 2012 train.
_base_ = ['./unet-multitask-compat_r50_1xb10-157k_voc12-semi20-256x256.py']
train_dataloader = dict(
    dataset=dict(pixel_split='ImageSets/Segmentation/train.txt'))
