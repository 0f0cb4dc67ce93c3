from .cam_head import CAMHead
from .image_cls_head import ImageClsHead
from .lrp_tied_head import LRPFeatures, LRPTiedHead
from .unet_head import UNetHead

__all__ = ['CAMHead', 'ImageClsHead', 'LRPFeatures', 'LRPTiedHead', 'UNetHead']
