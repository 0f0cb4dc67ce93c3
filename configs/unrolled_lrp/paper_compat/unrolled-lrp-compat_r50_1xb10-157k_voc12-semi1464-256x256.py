# The 20-label config with every segmentation training image
# pixel-labelled (the original's num_labels=0).
_base_ = ['./unrolled-lrp-compat_r50_1xb10-157k_voc12-semi20-256x256.py']
train_dataloader = dict(
    dataset=dict(pixel_split='ImageSets/Segmentation/train.txt'))
