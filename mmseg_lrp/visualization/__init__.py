from .heatmaps import (caption, class_probabilities, colorize, heatmap_row,
                       overlay, present_classes, render_dataset_sample,
                       stack_rows)

__all__ = [
    'caption', 'class_probabilities', 'colorize', 'heatmap_row', 'overlay',
    'present_classes', 'render_dataset_sample', 'stack_rows'
]
