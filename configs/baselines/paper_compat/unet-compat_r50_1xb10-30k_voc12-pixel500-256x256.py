# The 20-label config with the original's own 500-image draw
# (make_voc_splits.py DATA_ROOT --num 500 --protocol original); 30,000
# iterations as its README's command (600 epochs of 50 batches).
_base_ = ['./unet-compat_r50_1xb10-30k_voc12-pixel20-256x256.py']
train_dataloader = dict(
    dataset=dict(pixel_split='ImageSets/SemiSeg/original_500_seed0.txt'))
