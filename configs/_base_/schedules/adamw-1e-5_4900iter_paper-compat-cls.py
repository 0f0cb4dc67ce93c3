# Stage 1 as the original ran it: classification only, batch 32, 10 epochs
# of ceil(15,676 / 32) = 490 batches = 4,900 iterations, AdamW 1e-5, the
# last epoch's checkpoint kept (no best-checkpoint choice); validated once
# per epoch.
_base_ = ['./adamw-1e-5_20k.py']
train_cfg = dict(max_iters=4900, val_interval=490)
default_hooks = dict(
    checkpoint=dict(interval=490, save_best=None, save_last=True))
