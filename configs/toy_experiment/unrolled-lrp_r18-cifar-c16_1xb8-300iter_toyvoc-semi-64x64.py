# Toy unrolled LRP (semi-supervised): the stage-1 classifier
# (load_from=STAGE1.pth) and its LRP-unrolled tied decoder, batches of 4
# pixel-labelled + 4 image-level samples, AdamW 3e-4 at a constant rate
# (the heatmap bias at 100x: it starts at zero and has to move to the
# background/foreground threshold within the run). The pixel split comes
# from the data (default paper_30_seed0: 30 masks); make demo and the toy
# experiment set it.
_base_ = ['./_base_/toy_lrp.py']
max_iters = 300
optim_wrapper = dict(
    optimizer=dict(lr=3e-4),
    paramwise_cfg=dict(
        custom_keys={'heatmap_bias': dict(lr_mult=100.0, decay_mult=0.0)}))
train_cfg = dict(max_iters=max_iters, val_interval=50)
default_hooks = dict(
    checkpoint=dict(interval=max_iters, save_best='mIoU'))
