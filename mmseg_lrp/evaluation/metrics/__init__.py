from .heatmap_auroc_metric import HeatmapAUROCMetric, auroc
from .multilabel_cls_metric import MultiLabelClsMetric

__all__ = ['HeatmapAUROCMetric', 'MultiLabelClsMetric', 'auroc']
