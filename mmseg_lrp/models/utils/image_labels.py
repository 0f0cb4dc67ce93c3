"""What the labels of a batch say: multi-hot image labels (for the
classification losses) and which samples have pixel labels."""
from typing import Tuple

import torch
from torch import Tensor

from mmseg.utils import SampleList
from mmseg_lrp.utils.labels import mask_multi_hot


def batch_image_labels(batch_data_samples: SampleList, num_classes: int,
                       ignore_index: int = 255) -> Tuple[Tensor, Tensor]:
    """Multi-hot image labels ``(N, K)`` and which are known ``(N, )``.

    From ``gt_img_labels`` where a sample carries it (the semi-supervised
    VOC pipeline packs it), else from the classes present in its mask
    (``ignore_index`` ignored). A sample with neither (an all-ignore mask and
    no image labels) is marked unknown, so a loss can leave it out rather
    than give it a wrong all-negative label.

    Args:
        batch_data_samples: Samples with ``gt_sem_seg`` and optionally
            ``gt_img_labels``.
        num_classes: K, background included.
        ignore_index: Label of unlabelled pixels.

    Returns:
        tuple: float labels ``(N, K)`` and bool validity ``(N, )``, on the
        masks' device.
    """
    labels, valid = [], []
    for s in batch_data_samples:
        seg = s.gt_sem_seg.data
        y = seg.new_zeros(num_classes, dtype=torch.float32)
        if 'gt_img_labels' in s:
            y = s.gt_img_labels.data.to(seg.device, torch.float32)
            if y.numel() != num_classes:
                raise ValueError(f'gt_img_labels has {y.numel()} classes, '
                                 f'the head {num_classes}')
            valid.append(True)
        else:
            hot = mask_multi_hot(seg, num_classes, ignore_index,
                                 s.metainfo.get('seg_map_path', 'a mask'))
            if hot is not None:
                y = hot
            valid.append(hot is not None)
        labels.append(y)
    return torch.stack(labels), torch.tensor(valid, device=labels[0].device)


def pixel_labelled_index(batch_data_samples: SampleList,
                         seg_label: Tensor,
                         ignore_index: int = 255) -> Tensor:
    """Which samples have pixel labels (the ones the LRP head decodes).

    Args:
        batch_data_samples: The samples; ``has_pixel_label=False`` in a
            sample's metainfo (the semi-supervised pipeline's image-label
            samples) marks it unlabelled whatever its mask.
        seg_label: ``(N, H, W)`` the stacked masks.
        ignore_index: Label of unlabelled pixels.

    Returns:
        Tensor: ``(n, )`` indices of the samples with a pixel label.
    """
    has_pixels = (seg_label != ignore_index).flatten(1).any(1)
    for i, s in enumerate(batch_data_samples):
        if s.metainfo.get('has_pixel_label', True) is False:
            has_pixels[i] = False
    return has_pixels.nonzero().flatten()
