from .backbone_check import check_lrp_backbone
from .image_labels import batch_image_labels

__all__ = ['check_lrp_backbone', 'batch_image_labels']
