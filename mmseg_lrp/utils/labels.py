"""Image-level labels from a mask: the classes present in it, multi-hot."""
from typing import Optional, Union

import numpy as np
import torch
from torch import Tensor


def mask_multi_hot(seg: Union[Tensor, np.ndarray],
                   num_classes: int,
                   ignore_index: int = 255,
                   where: str = 'a mask') -> Optional[Tensor]:
    """The multi-hot vector of the classes present in a label map.

    Used by the data pipeline (``PackSemiSegInputs``) and by the models for
    samples that carry no image labels, so both derive them alike.

    Args:
        seg: Label map of any shape (class indices, ``ignore_index``).
        num_classes: K, background included.
        ignore_index: Label of unlabelled pixels.
        where: The mask's file or name, for the error message.

    Returns:
        float32 ``(K, )`` on the mask's device, or None if no pixel is
        labelled (the sample's classes are unknown).

    Raises:
        ValueError: A label is ``>= num_classes``.
    """
    seg = torch.as_tensor(seg)
    present = seg[seg != ignore_index].unique().long()
    if not present.numel():
        return None
    if (present >= num_classes).any() or (present < 0).any():
        raise ValueError(f'{where}: mask label {present.max().item()} >= '
                         f'num_classes {num_classes}')
    y = torch.zeros(num_classes, dtype=torch.float32, device=seg.device)
    y[present] = 1
    return y
