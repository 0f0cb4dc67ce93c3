"""Analysis code behind tools/analysis_tools (kept importable and tested)."""
from .guidance import (format_gradients, group_of, heatmap_pairs,
                       loss_gradients, threshold_ious)

__all__ = [
    'format_gradients', 'group_of', 'heatmap_pairs', 'loss_gradients',
    'threshold_ious'
]
