"""Draw per-class heatmaps of validation images, across checkpoints.

    python tools/visualize_heatmaps.py CONFIG CKPT [CKPT ...] --out DIR \\
        [--indices 0 1 2] [--device cpu]

For each chosen validation sample writes ``{out}/{id}.png``: one row per
checkpoint (input, ground truth, prediction, then the softmax heatmap of each
class present, blue-white-red), so several checkpoints of one run show how
the heatmaps form during training (the paper's Figures 2 and 3). The same
rows go to every visualisation backend of the config (``--backend-dir`` for
the files of mmengine's LocalVisBackend, TensorBoard if configured). The
checkpoints are checked against the config (number of classes).
"""
import argparse
import os
import os.path as osp

import mmcv
import torch
from mmengine.config import DictAction
from mmengine.registry import init_default_scope

import mmseg_lrp.plugin  # noqa: F401
from mmseg_lrp.apis import init_model
from mmseg_lrp.visualization import render_dataset_sample, stack_rows


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoints', nargs='+')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--indices', type=int, nargs='+', default=[0, 1, 2],
                        help='validation sample indices')
    parser.add_argument('--backend-dir', default=None,
                        help='also send the rows to the config\'s '
                        'visualisation backends, saving under this folder')
    parser.add_argument(
        '--device',
        default='cuda:0' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='config overrides, key=value (as train.py)')
    return parser.parse_args()


def checkpoint_step(path: str) -> str:
    name = osp.splitext(osp.basename(path))[0]
    return name.replace('best_mIoU_', '').replace('_', ' ')


def main():
    args = parse_args()
    for c in args.checkpoints:
        if not osp.isfile(c):
            raise SystemExit(f'checkpoint not found: {c}')
    from mmseg.registry import DATASETS, VISUALIZERS
    rows = {}
    vis = None
    for n, ckpt in enumerate(args.checkpoints):
        model = init_model(args.config, ckpt, device=args.device,
                           cfg_options=args.cfg_options)
        if vis is None:
            init_default_scope('mmseg')
            cfg = model.cfg.visualizer.copy()
            cfg.name = 'visualize_heatmaps'
            if args.backend_dir is None:
                cfg.vis_backends = None
            else:
                cfg.save_dir = args.backend_dir
            vis = VISUALIZERS.build(cfg)
            dataset = DATASETS.build(model.cfg.val_dataloader.dataset)
            for i in args.indices:
                if not 0 <= i < len(dataset):
                    raise SystemExit(f'--indices: {i} outside the validation '
                                     f'set (0..{len(dataset) - 1})')
        for i in args.indices:
            name, row = render_dataset_sample(model, vis, dataset, i,
                                              title=checkpoint_step(ckpt))
            rows.setdefault(name, []).append(row)
            if args.backend_dir is not None:
                vis.add_image(f'heatmaps_{name}', row, step=n)
    os.makedirs(args.out, exist_ok=True)
    for name, strip in rows.items():
        mmcv.imwrite(stack_rows(strip)[..., ::-1],
                     osp.join(args.out, f'{name}.png'))
    print(f'wrote {len(rows)} strips of {len(args.checkpoints)} '
          f'checkpoint(s) to {args.out}')


if __name__ == '__main__':
    main()
