"""Where the losses of an unrolled-LRP model pull: per-layer gradient norms
of ``loss_seg`` and ``loss_cls`` (and their cosine) on training batches of
the config's own loader, from a checkpoint.

    python tools/analysis_tools/lrp_guidance.py CONFIG CHECKPOINT \\
        [--batches 8] [--thresholds] [--data-root ROOT] \\
        [--cfg-options k=v ...]

Prints a Markdown table, one row per parameter group (heatmap bias,
classifier, stem, encoder stages). Read it with docs/guidance.md: the
segmentation loss guides the classifier only if its gradient reaches the
encoder stages with a weight comparable to the classification loss's.

``--thresholds`` instead reads the val split: per (image, present class),
the IoU of the model's own prediction, of the class's heatmap at its best
threshold over all images, and at the best threshold per image (an oracle);
it tells maps that rank well but are mis-scaled between images from maps
whose shape is the limit (:func:`mmseg_lrp.analysis.threshold_ious`).
"""
import argparse

import torch

from mmengine.runner import Runner, load_checkpoint
from mmseg.registry import MODELS
from mmseg.utils import register_all_modules

from mmseg_lrp.analysis import (format_gradients, heatmap_pairs,
                                loss_gradients, threshold_ious)
from mmseg_lrp.utils.tool_config import add_runner_args, tool_config_from_args


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--batches', type=int, default=8,
                   help='training batches to sum over')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--thresholds', action='store_true',
                   help='own / per-class / per-image threshold IoU on val')
    add_runner_args(p)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    register_all_modules(init_default_scope=True)
    cfg = tool_config_from_args(args)
    torch.manual_seed(args.seed)
    model = MODELS.build(cfg.model)
    load_checkpoint(model, args.checkpoint, map_location='cpu',
                    revise_keys=[(r'^module\.', '')])
    if args.thresholds:
        loader_cfg = cfg.val_dataloader.copy()
        loader_cfg.update(num_workers=0, persistent_workers=False)
        res = threshold_ious(
            heatmap_pairs(model, Runner.build_dataloader(loader_cfg)))
        print(f'{args.checkpoint}: mean IoU over {res["pairs"]} (val image, '
              f'present class) pairs: own prediction {res["own"]:.1f}, '
              f'best threshold per class {res["per_class"]:.1f}, best '
              f'threshold per image (oracle) {res["per_image"]:.1f}')
        return
    model.train()
    loader_cfg = cfg.train_dataloader.copy()
    loader_cfg.update(num_workers=0, persistent_workers=False)
    loader = Runner.build_dataloader(loader_cfg, seed=args.seed)
    it = iter(loader)
    batches = [next(it) for _ in range(args.batches)]
    table = loss_gradients(model, batches)
    print(f'{args.config}\n{args.checkpoint}: gradient norms over '
          f'{args.batches} training batches\n')
    print(format_gradients(table))


if __name__ == '__main__':
    main()
