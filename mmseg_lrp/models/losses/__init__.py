from .seg_cls_loss import SegClsLoss

__all__ = ['SegClsLoss']
