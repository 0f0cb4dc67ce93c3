"""Segment images with a trained model and write its per-class heatmaps.

    python tools/infer.py CONFIG CHECKPOINT IMAGE_OR_DIR --out DIR \\
        [--device cpu] [--classes person car] [--save-logits]

For every image writes ``{name}_pred.png`` (the segmentation as a palette
PNG: pixel value = class index, colours from the dataset), and
``{name}_heatmaps.png`` (input, prediction, and the softmax heatmap of each
predicted class, or of ``--classes``, blue-white-red; panels at most
``--figure-size`` px); ``--save-logits`` also keeps the raw heatmaps
``(K, H, W)`` as ``{name}_heatmaps.npy`` (``--logits-size model`` and
``--logits-dtype float16`` make it smaller). The printed line names the same
classes as the figure (unless ``--classes`` chooses the panels), with their
share of the pixels. A model trained with other classes than its config's
(``train.py --classes``) is built with the classes its checkpoint names. An
image that cannot be read (or is under 8 px a side) is reported and
skipped; the tool exits non-zero at the end, listing them. Uses mmseg's
``init_model`` / ``inference_model`` (the checkpoint is checked against the
config first). Works on CPU and GPU.
"""
import argparse
import os
import os.path as osp
from typing import List, Optional, Tuple

import cv2
import mmcv
import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import DictAction
from mmseg.structures import SegDataSample
from PIL import Image

import mmseg_lrp.plugin  # noqa: F401
from mmseg_lrp.apis import inference_model, init_model, list_images
from mmseg_lrp.datasets.transforms import LoadCheckedImageFromFile
from mmseg_lrp.visualization import heatmap_row

MIN_SIDE = 8  # px; smaller images are refused, naming the file
LARGE_MB = 100  # a saved heatmap file above this gets a note


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('images', help='an image file or a folder of images')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument(
        '--device',
        default='cuda:0' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--classes', nargs='+', default=None,
                        help='class names whose heatmaps to draw '
                        '(default: the predicted classes)')
    parser.add_argument('--save-logits', action='store_true',
                        help='also save the raw heatmaps as .npy')
    parser.add_argument('--logits-size', choices=['image', 'model'],
                        default='image', help='saved heatmaps at the image\'s'
                        ' resolution or at the one the model saw')
    parser.add_argument('--logits-dtype', choices=['float32', 'float16'],
                        default='float32')
    parser.add_argument('--figure-size', type=int, default=512,
                        help='longest side of each figure panel, in px')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='config overrides, key=value (as train.py)')
    return parser.parse_args()


def check_size(path: str, image: np.ndarray) -> None:
    """Refuse images too small to segment, naming them."""
    h, w = image.shape[:2]
    if min(h, w) < MIN_SIDE:
        raise ValueError(f'{path}: image is {w}x{h} px; the model needs at '
                         f'least {MIN_SIDE} px a side')


def fit(image: np.ndarray, heat: torch.Tensor,
        max_side: int) -> Tuple[np.ndarray, torch.Tensor]:
    """Image and heatmaps scaled down so that the longer side is at most
    ``max_side`` (the figure of a 4000x3000 photo stays readable)."""
    h, w = image.shape[:2]
    scale = max_side / max(h, w)
    if scale >= 1:
        return image, heat
    size = (max(1, round(h * scale)), max(1, round(w * scale)))
    image = cv2.resize(image, size[::-1], interpolation=cv2.INTER_AREA)
    heat = F.interpolate(heat[None].float(), size=size, mode='bilinear',
                         align_corners=False)[0]
    return image, heat


def save_logits(path: str, result: SegDataSample, heat: torch.Tensor,
                size: str, dtype: str) -> float:
    """Write the heatmaps as ``.npy`` (``{name}_heatmaps.npy``).

    Args:
        path: The output file.
        result: The prediction (its ``img_shape`` is the model's input).
        heat: ``(K, H, W)`` heatmaps at the image's resolution.
        size: ``'image'`` or ``'model'`` (resolution to save at).
        dtype: ``'float32'`` or ``'float16'``.

    Returns:
        The file size in MiB.
    """
    if size == 'model':  # the resolution the model saw (before padding)
        h, w = result.metainfo['img_shape'][:2]
        heat = F.interpolate(heat[None].float(), size=(h, w),
                             mode='bilinear', align_corners=False)[0]
    np.save(path, heat.cpu().numpy().astype(dtype))
    return osp.getsize(path) / 2**20


def infer_one(model: torch.nn.Module, vis, path: str,
              args: argparse.Namespace, classes: List[str],
              palette: List[List[int]], flat_palette: List[int],
              class_ids: Optional[List[int]]) -> str:
    """Segment one image and write its files.

    Args:
        model: The segmentor (eval mode).
        vis: A ``SegLocalVisualizer`` for the overlays.
        path: The image.
        args: The command line.
        classes: Class names.
        palette: Class colours.
        flat_palette: ``palette`` flattened for the PNG.
        class_ids: Classes whose heatmaps to draw (None: the predicted).

    Returns:
        The line to print.
    """
    name = osp.splitext(osp.basename(path))[0]
    # decoded once, with the training loader's checks (missing,
    # undecodable, truncated); the model gets the decoded BGR array
    bgr = LoadCheckedImageFromFile()(dict(img_path=path))['img']
    image = np.ascontiguousarray(bgr[..., ::-1])
    check_size(path, image)
    with torch.no_grad():
        result = inference_model(model, bgr)
    pred = result.pred_sem_seg.data[0].cpu().numpy().astype(np.uint8)
    heat = result.seg_logits.data
    png = Image.fromarray(pred, mode='P')
    png.putpalette(flat_palette + [0] * (768 - len(flat_palette)))
    png.save(osp.join(args.out, f'{name}_pred.png'))
    # the figure and the printed line show the same classes
    counts = np.bincount(pred.ravel(), minlength=len(classes))
    found = [int(k) for k in np.argsort(-counts) if counts[k] > 0]
    shown = class_ids if class_ids is not None else found
    small_image, small_heat = fit(image, heat, args.figure_size)
    row = heatmap_row(vis, small_image, small_heat, classes, palette,
                      class_ids=shown, title=name)
    mmcv.imwrite(row[..., ::-1], osp.join(args.out, f'{name}_heatmaps.png'))
    line = f'{path}: predicted ' + ', '.join(
        f'{classes[k]} {100 * counts[k] / pred.size:.1f}%' for k in found)
    if args.save_logits:
        mb = save_logits(osp.join(args.out, f'{name}_heatmaps.npy'), result,
                         heat, args.logits_size, args.logits_dtype)
        if mb > LARGE_MB:
            line += (f'; heatmaps .npy is {mb:.0f} MiB (smaller: '
                     '--logits-size model, --logits-dtype float16)')
    if 'pred_img_logits' in result:
        p = result.pred_img_logits.data.sigmoid().cpu()
        top = [f'{classes[k]} {p[k]:.2f}'
               for k in p.argsort(descending=True)[:3].tolist()]
        line += f'; classifier: {", ".join(top)}'
    return line


def main():
    args = parse_args()
    images = list_images(args.images)
    model = init_model(args.config, args.checkpoint, device=args.device,
                       cfg_options=args.cfg_options)
    classes = list(model.dataset_meta['classes'])
    palette = model.dataset_meta.get('palette') or [
        [int(c) for c in np.random.default_rng(k).integers(0, 256, 3)]
        for k in range(len(classes))
    ]
    class_ids = None
    if args.classes:
        unknown = [c for c in args.classes if c not in classes]
        if unknown:
            raise SystemExit(f'--classes: unknown {unknown}; the model has '
                             f'{classes}')
        class_ids = [classes.index(c) for c in args.classes]
    from mmseg.visualization import SegLocalVisualizer
    vis = SegLocalVisualizer(name='infer', alpha=0.6)
    os.makedirs(args.out, exist_ok=True)
    flat_palette = [v for p in palette for v in p]
    failed = []
    for path in images:
        try:
            print(infer_one(model, vis, path, args, classes, palette,
                            flat_palette, class_ids), flush=True)
        except Exception as e:  # report, go on with the other images
            msg = str(e) if path in str(e) else f'{path}: {e}'
            failed.append(f'{msg} ({type(e).__name__})')
            print(f'FAILED {failed[-1]}', flush=True)
    print(f'wrote results of {len(images) - len(failed)} of {len(images)} '
          f'images to {args.out}')
    if failed:
        raise SystemExit(f'{len(failed)} image(s) failed:\n  '
                         + '\n  '.join(failed))


if __name__ == '__main__':
    main()
