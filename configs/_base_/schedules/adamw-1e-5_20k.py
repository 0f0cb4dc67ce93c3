# The original recipe: AdamW, lr 1e-5, weight decay 0.01, constant rate,
# iteration based; validate every 1000 iterations and keep the checkpoint
# with the best val mIoU (the paper reports the best checkpoint on val).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-5, weight_decay=0.01))
param_scheduler = []
train_cfg = dict(type='IterBasedTrainLoop', max_iters=20000, val_interval=1000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # mmengine's CheckpointHook, written safely (mmseg_lrp/engine/hooks/
    # atomic_checkpoint_hook.py)
    checkpoint=dict(
        type='AtomicCheckpointHook',
        by_epoch=False,
        interval=1000,
        max_keep_ckpts=2,
        save_best='mIoU'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
