from .lrp_tied_head import LRPFeatures, LRPTiedHead

__all__ = ['LRPFeatures', 'LRPTiedHead']
