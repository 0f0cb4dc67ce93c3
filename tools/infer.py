"""Segment images with a trained model and write its per-class heatmaps.

    python tools/infer.py CONFIG CHECKPOINT IMAGE_OR_DIR --out DIR \\
        [--device cpu] [--classes person car] [--save-logits]

For every image writes ``{name}_pred.png`` (the segmentation as a palette
PNG: pixel value = class index, colours from the dataset), and
``{name}_heatmaps.png`` (input, prediction, and the softmax heatmap of each
predicted class, or of ``--classes``, blue-white-red); ``--save-logits``
also keeps the raw heatmaps ``(K, H, W)`` as ``{name}_heatmaps.npy``. Uses
mmseg's ``init_model``/``inference_model`` (the checkpoint is checked against
the config first). Works on CPU and GPU.
"""
import argparse
import os
import os.path as osp

import mmcv
import numpy as np
import torch
from mmengine.config import DictAction
from PIL import Image

import mmseg_lrp  # noqa: F401
from mmseg_lrp.apis import inference_model, init_model, list_images
from mmseg_lrp.visualization import heatmap_row


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
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='config overrides, key=value (as train.py)')
    return parser.parse_args()


def main():
    args = parse_args()
    images = list_images(args.images)
    model = init_model(args.config, args.checkpoint, device=args.device,
                       cfg_options=args.cfg_options)
    # images are checked for truncation/corruption as in training
    for t in model.cfg.test_pipeline:
        if t['type'] == 'LoadImageFromFile':
            t['type'] = 'LoadCheckedImageFromFile'
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
    for path in images:
        name = osp.splitext(osp.basename(path))[0]
        with torch.no_grad():
            result = inference_model(model, path)
        pred = result.pred_sem_seg.data[0].cpu().numpy().astype(np.uint8)
        heat = result.seg_logits.data
        png = Image.fromarray(pred, mode='P')
        png.putpalette(flat_palette + [0] * (768 - len(flat_palette)))
        png.save(osp.join(args.out, f'{name}_pred.png'))
        image = mmcv.imread(path, channel_order='rgb')
        row = heatmap_row(vis, image, heat, classes, palette,
                          class_ids=class_ids, title=name)
        mmcv.imwrite(row[..., ::-1], osp.join(args.out,
                                               f'{name}_heatmaps.png'))
        if args.save_logits:
            np.save(osp.join(args.out, f'{name}_heatmaps.npy'),
                    heat.cpu().numpy())
        found = [classes[k] for k in np.unique(pred)]
        line = f'{path}: predicted {", ".join(found)}'
        if 'pred_img_logits' in result:
            p = result.pred_img_logits.data.sigmoid().cpu()
            top = [f'{classes[k]} {p[k]:.2f}'
                   for k in p.argsort(descending=True)[:3].tolist()]
            line += f'; classifier: {", ".join(top)}'
        print(line)
    print(f'wrote {len(images)} results to {args.out}')


if __name__ == '__main__':
    main()
