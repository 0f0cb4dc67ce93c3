"""Rendering of per-class LRP heatmaps (the paper's Figures 2 and 3)."""
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
from matplotlib import colormaps
from mmengine.structures import PixelData
from torch import Tensor

_BWR = (colormaps['bwr'](np.linspace(0, 1, 256))[:, :3] * 255).astype(
    np.uint8)


def colorize(prob: np.ndarray) -> np.ndarray:
    """Map values in [0, 1] to RGB with the blue-white-red colour map
    (0 blue, 0.5 white, 1 red)."""
    idx = np.clip(np.rint(prob * 255), 0, 255).astype(np.int64)
    return _BWR[idx]


def class_probabilities(seg_logits: Tensor) -> np.ndarray:
    """Softmax over the K heatmaps, ``(K, H, W)`` float array."""
    return torch.softmax(seg_logits.float(), dim=0).cpu().numpy()


def present_classes(*maps: Optional[np.ndarray],
                    ignore_index: int = 255) -> List[int]:
    """Sorted class indices present in any of the label maps."""
    found = set()
    for m in maps:
        if m is not None:
            found.update(int(v) for v in np.unique(m) if v != ignore_index)
    return sorted(found)


def caption(panel: np.ndarray, text: str, height: int = 14) -> np.ndarray:
    """Put a white caption bar with ``text`` above an RGB panel."""
    bar = np.full((height, panel.shape[1], 3), 255, np.uint8)
    scale = height / 30
    cv2.putText(bar, text[:max(1, panel.shape[1] // int(14 * scale + 1))],
                (2, height - 4), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0),
                1, cv2.LINE_AA)
    return np.concatenate([bar, panel], 0)


def overlay(visualizer, image: np.ndarray, label: np.ndarray,
            classes: Sequence[str],
            palette: Sequence[Sequence[int]]) -> np.ndarray:
    """A label map drawn over the image by mmseg's SegLocalVisualizer.

    Args:
        visualizer: A ``SegLocalVisualizer`` (the runner's, or one made by
            the tool).
        image: RGB uint8 image.
        label: ``(H, W)`` class indices (255 left undrawn).
        classes: Class names.
        palette: Class colours.
    """
    sem = PixelData(data=torch.as_tensor(label[None].astype(np.int64)))
    return visualizer._draw_sem_seg(image.copy(), sem, list(classes),
                                    [list(p) for p in palette],
                                    with_labels=False)


def heatmap_row(visualizer,
                image: np.ndarray,
                seg_logits: Tensor,
                classes: Sequence[str],
                palette: Sequence[Sequence[int]],
                gt: Optional[np.ndarray] = None,
                class_ids: Optional[Sequence[int]] = None,
                title: str = '') -> np.ndarray:
    """One row: input, ground truth, prediction, then the softmax heatmap of
    each class in ``class_ids`` (default: the classes present in the ground
    truth, else in the prediction).

    Args:
        visualizer: A ``SegLocalVisualizer`` for the overlays.
        image: RGB uint8 image ``(H, W, 3)`` at the logits' resolution.
        seg_logits: ``(K, H, W)`` heatmaps (the segmentation logits).
        classes: Class names.
        palette: Class colours.
        gt: Optional label map ``(H, W)``.
        class_ids: Classes whose heatmaps to show (default: present in
            the ground truth, else predicted on >= 1 % of the pixels).
        title: Caption of the input panel.

    Returns:
        RGB uint8 image.
    """
    prob = class_probabilities(seg_logits)
    pred = prob.argmax(0)
    if class_ids is None:
        if gt is not None:
            class_ids = present_classes(gt)
        else:  # predicted on at least 1 % of the image
            counts = np.bincount(pred.ravel(), minlength=len(prob))
            class_ids = [int(k) for k in np.nonzero(
                counts >= 0.01 * pred.size)[0]]
    panels = [caption(image, title or 'input')]
    if gt is not None:
        panels.append(
            caption(overlay(visualizer, image, gt, classes, palette),
                    'truth'))
    panels.append(
        caption(overlay(visualizer, image, pred, classes, palette),
                'prediction'))
    for k in class_ids:
        panels.append(caption(colorize(prob[k]), str(classes[k])))
    gap = np.full((panels[0].shape[0], 2, 3), 255, np.uint8)
    out = [panels[0]]
    for p in panels[1:]:
        out += [gap, p]
    return np.concatenate(out, 1)


def stack_rows(rows: Sequence[np.ndarray]) -> np.ndarray:
    """Stack rows of different widths, padding on the right with white."""
    width = max(r.shape[1] for r in rows)
    padded = [
        np.pad(r, ((0, 2), (0, width - r.shape[1]), (0, 0)),
               constant_values=255) for r in rows
    ]
    return np.concatenate(padded, 0)


@torch.no_grad()
def render_dataset_sample(model, visualizer, dataset, index: int,
                          title: str = '') -> Tuple[str, np.ndarray]:
    """Predict one sample of a (validation) dataset and draw its row.

    Args:
        model: The segmentor (unwrapped), in eval mode.
        visualizer: A ``SegLocalVisualizer`` for the overlays.
        dataset: A dataset whose pipeline packs ``inputs`` and
            ``data_samples`` (ground truth at the original resolution).
        index: The sample.
        title: Caption of the input panel (default: the image id).

    Returns:
        The image id and the RGB row.
    """
    import mmcv
    data = dataset[index]
    batch = model.data_preprocessor(
        dict(inputs=[data['inputs']], data_samples=[data['data_samples']]),
        False)
    out = model.predict(batch['inputs'], batch['data_samples'])[0]
    meta = data['data_samples'].metainfo
    name = meta.get('img_id') or osp.splitext(osp.basename(
        meta['img_path']))[0]
    heat = out.seg_logits.data
    size = tuple(heat.shape[-2:])
    # the image the model saw, if at the logits' size (e.g. the paper
    # protocol's centre crop), else the original file
    seen = data['inputs'].permute(1, 2, 0).numpy()[..., ::-1]
    if seen.shape[:2] == size:
        image = np.ascontiguousarray(seen)
    else:
        image = mmcv.imread(meta['img_path'], channel_order='rgb')
        if image.shape[:2] != size:
            image = mmcv.imresize(image, size[::-1])
    gt = None
    if 'gt_sem_seg' in data['data_samples']:
        gt = data['data_samples'].gt_sem_seg.data[0].numpy()
        if gt.shape != size:
            gt = None  # not at the evaluated resolution: not drawn
    classes = dataset.metainfo['classes']
    palette = dataset.metainfo['palette']
    return name, heatmap_row(visualizer, image, heat, classes, palette,
                             gt=gt, title=title or name)
