# The 20-label config with all 1,464 masks of VOC 2012 train: 200 epochs of
# ceil(1464 / 10) = 147 batches = 29,400 iterations (the original's README
# command; its last batch of an epoch has 4 images, here every batch has 10).
_base_ = ['./unet-compat_r50_1xb10-30k_voc12-pixel20-256x256.py']
train_dataloader = dict(
    dataset=dict(pixel_split='ImageSets/Segmentation/train.txt'))
train_cfg = dict(max_iters=29400)
