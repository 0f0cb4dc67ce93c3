from .backbone_check import check_lrp_backbone

__all__ = ['check_lrp_backbone']
