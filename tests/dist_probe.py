"""A hook for the distributed test: each rank writes which samples it
trained on and its final weights (imported via custom_imports)."""
import json
import os.path as osp

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmseg.registry import HOOKS


@HOOKS.register_module()
class DistProbeHook(Hook):

    def __init__(self):
        self.seen = {}

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self.seen[runner.iter] = dict(
            ids=[s.img_id for s in data_batch['data_samples']],
            loss=float(outputs['loss']))

    def after_train(self, runner):
        rank = get_rank()
        with open(osp.join(runner.work_dir, f'probe_rank{rank}.json'),
                  'w') as f:
            json.dump(self.seen, f)
        model = runner.model.module if hasattr(runner.model, 'module') \
            else runner.model
        torch.save(model.state_dict(),
                   osp.join(runner.work_dir, f'weights_rank{rank}.pt'))
