# Stage 2 as the original's README command runs it: AdamW 1e-5 (decay 0.01),
# constant, 100 epochs of ceil(15,676 / 10) = 1,568 batches = 156,800
# iterations; validation every 3,000 images (300 iterations) keeping the
# best-mIoU checkpoint. The run refuses to start without the stage-1
# checkpoint (load_from): from ImageNet weights and a random classifier it
# would be another method.
_base_ = ['./adamw-1e-5_20k.py']
train_cfg = dict(max_iters=156800, val_interval=300)
default_hooks = dict(checkpoint=dict(interval=3000, save_best='mIoU'))
custom_hooks = [dict(type='RequireCheckpointHook')]
