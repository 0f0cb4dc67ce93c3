# The 20-label config with the original's own 100-image draw
# (make_voc_splits.py DATA_ROOT --num 100 --protocol original).
_base_ = ['./unet-multitask-compat_r50_1xb10-157k_voc12-semi20-256x256.py']
train_dataloader = dict(
    dataset=dict(pixel_split='ImageSets/SemiSeg/original_100_seed0.txt'))
