# Original-protocol VOC with every segmentation training image pixel-labelled
# (the original's num_labels=0).
_base_ = ['./voc12-semi_paper-compat.py']
train_dataloader = dict(
    dataset=dict(pixel_split='ImageSets/Segmentation/train.txt'))
