"""Analysis code behind tools/analysis_tools (kept importable and tested)."""
from .guidance import format_gradients, group_of, loss_gradients

__all__ = ['format_gradients', 'group_of', 'loss_gradients']
