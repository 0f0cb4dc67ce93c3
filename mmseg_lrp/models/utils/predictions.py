"""What segmentors with an image classifier share at prediction time."""
from typing import List

from mmengine.structures import LabelData
from torch import Tensor

from mmseg.utils import OptSampleList, SampleList


def batch_img_metas(inputs: Tensor, data_samples: OptSampleList) -> List[dict]:
    """The samples' metainfo, or whole-input metas without samples (as
    mmseg's ``EncoderDecoder.predict`` builds them)."""
    if data_samples is not None:
        return [s.metainfo for s in data_samples]
    shape = inputs.shape[2:]
    return [
        dict(ori_shape=shape, img_shape=shape, pad_shape=shape,
             padding_size=[0, 0, 0, 0])
    ] * inputs.shape[0]


def attach_img_logits(results: SampleList, logits: Tensor) -> SampleList:
    """Store each image's ``(K, )`` classifier logits as ``pred_img_logits``
    (``LabelData``), which :class:`MultiLabelClsMetric` reads.

    Args:
        results: Samples from ``postprocess_result``.
        logits: ``(N, K)`` image-level logits, one row per sample.

    Returns:
        The same samples.
    """
    if len(results) != logits.shape[0]:
        raise ValueError(f'{len(results)} samples but {logits.shape[0]} '
                         'rows of image logits')
    for r, z in zip(results, logits):
        r.set_data(dict(pred_img_logits=LabelData(data=z)))
    return results
