# Toy stage 1 (the paper's classifier pretraining, from scratch here): the
# ResNet-18-CIFAR-c16 classifier trained for classification only on the toy
# VOC's image-level pool (8000 images in the default data), batch 16, AdamW
# 2e-3. Its checkpoint initialises every toy model (backbone.*; the LRP
# model also takes its classifier). ~90 val mAP after 3000 iterations
# (docs/toy_world.md).
_base_ = ['./_base_/toy_lrp.py']
model = dict(decode_head=dict(loss_decode=dict(seg_weight=0.0)))
train_dataloader = dict(
    batch_size=16,
    batch_sampler=None,  # plain batches of the image-level pool alone
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        datasets=[{{_base_.image_pool}}]))
max_iters = 3000
optim_wrapper = dict(optimizer=dict(lr=2e-3))
train_cfg = dict(max_iters=max_iters, val_interval=500)
default_hooks = dict(
    checkpoint=dict(interval=max_iters, save_best='cls/mAP'))
custom_hooks = []
