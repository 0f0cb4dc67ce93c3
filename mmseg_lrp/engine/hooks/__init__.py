from .atomic_checkpoint_hook import AtomicCheckpointHook
from .lrp_heatmap_hook import LRPHeatmapHook
from .require_checkpoint_hook import RequireCheckpointHook
from .semi_batch_check_hook import SemiBatchCheckHook

__all__ = [
    'AtomicCheckpointHook', 'LRPHeatmapHook', 'RequireCheckpointHook',
    'SemiBatchCheckHook'
]
