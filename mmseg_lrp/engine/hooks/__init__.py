from .lrp_heatmap_hook import LRPHeatmapHook
from .semi_batch_check_hook import SemiBatchCheckHook

__all__ = ['LRPHeatmapHook', 'SemiBatchCheckHook']
