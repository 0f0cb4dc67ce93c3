"""Draw per-class heatmaps of chosen validation images during training."""
import os
import os.path as osp
from typing import Sequence

import mmcv
from mmengine.dist import master_only
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS

from mmseg_lrp.visualization import render_dataset_sample, stack_rows


@HOOKS.register_module()
class LRPHeatmapHook(Hook):
    """After every ``interval``-th validation, draw for the validation
    samples ``indices``: input, ground truth, prediction (overlays by mmseg's
    SegLocalVisualizer) and the softmax heatmap of each class present, in a
    blue-white-red colour map (the paper's Figure 2). Rows are written to
    ``{work_dir}/heatmaps/iter_{N}/{id}.png`` and sent to the runner's
    visualizer backends (``heatmaps_{id}``: TensorBoard, W&B, ... as
    configured); ``{work_dir}/heatmaps/{id}_evolution.png`` grows by one row
    per validation, showing how the heatmaps form over training (Figure 3).

    Args:
        indices: Validation sample indices to draw.
        interval: Draw after every ``interval``-th validation.
    """
    priority = 'LOW'

    def __init__(self, indices: Sequence[int] = (0, 1, 2),
                 interval: int = 1) -> None:
        if interval < 1:
            raise ValueError(f'interval must be >= 1, got {interval}')
        self.indices = list(indices)
        self.interval = interval
        self._validations = 0

    @master_only
    def after_val_epoch(self, runner, metrics=None) -> None:
        self._validations += 1
        if self._validations % self.interval:
            return
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        dataset = runner.val_loop.dataloader.dataset
        for i in self.indices:
            if not 0 <= i < len(dataset):
                raise IndexError(f'LRPHeatmapHook: index {i} outside the '
                                 f'validation set (0..{len(dataset) - 1})')
        out_dir = osp.join(runner.work_dir, 'heatmaps')
        step_dir = osp.join(out_dir, f'iter_{runner.iter}')
        os.makedirs(step_dir, exist_ok=True)
        for i in self.indices:
            name, row = render_dataset_sample(
                model, runner.visualizer, dataset, i,
                title=f'iter {runner.iter}')
            mmcv.imwrite(row[..., ::-1], osp.join(step_dir, f'{name}.png'))
            runner.visualizer.add_image(f'heatmaps_{name}', row,
                                        step=runner.iter)
            strip = osp.join(out_dir, f'{name}_evolution.png')
            rows = [row]
            if osp.isfile(strip):
                rows.insert(0, mmcv.imread(strip, channel_order='rgb'))
            mmcv.imwrite(stack_rows(rows)[..., ::-1], strip)
