from .multilabel_cls_metric import MultiLabelClsMetric

__all__ = ['MultiLabelClsMetric']
