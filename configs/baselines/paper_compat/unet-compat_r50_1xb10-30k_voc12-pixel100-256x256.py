# The 20-label config with the original's own 100-image draw
# (make_voc_splits.py DATA_ROOT --num 100 --protocol original); 30,000
# iterations as its README's command (3,000 epochs of 10 batches).
_base_ = ['./unet-compat_r50_1xb10-30k_voc12-pixel20-256x256.py']
train_dataloader = dict(
    dataset=dict(pixel_split='ImageSets/SemiSeg/original_100_seed0.txt'))
