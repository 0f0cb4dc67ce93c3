"""The main job of ``make demo``: stage 1, unrolled LRP, test, heatmaps.

Runs the plugin's own tools as a user would, on the embedded toy VOC
(``make toy-data``):

1. ``tools/train.py STAGE1_CONFIG``: the classifier, trained on image-level
   labels only (the paper's stage 1);
2. ``tools/train.py CONFIG --cfg-options load_from=STAGE1.pth``: the
   unrolled-LRP model from that classifier, semi-supervised with the pixel
   split of CONFIG (30 masks by default) plus the image-level pool;
3. ``tools/test.py CONFIG BEST.pth``: val mIoU and the classifier's mAP;
4. ``tools/visualize_heatmaps.py``: per-class heatmaps of three val images,
   from the stage-1 classifier and from the trained model
   (``{work_dir}/heatmaps.png``).

Then prints val mIoU, the classifier's mAP before and after, and the minutes
each step took.

    python tools/demo.py [--stage1-config C1] [--config C2] \\
        [--work-dir work_dirs/demo] [--data-root data/toy_voc/VOC2012]
"""
import argparse
import glob
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import time

HERE = osp.dirname(osp.abspath(__file__))
TOY = osp.join(osp.dirname(HERE), 'configs', 'toy_experiment')
STAGE1_CONFIG = osp.join(
    TOY, 'unrolled-lrp_r18-cifar-c16_1xb16-3000iter_toyvoc-cls-64x64.py')
CONFIG = osp.join(
    TOY, 'unrolled-lrp_r18-cifar-c16_1xb8-300iter_toyvoc-semi-64x64.py')


def run(cmd):
    print('+ ' + ' '.join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def tool(script):
    return [sys.executable, osp.join(HERE, script)]


def newest(pattern):
    files = glob.glob(pattern)
    if not files:
        raise FileNotFoundError(f'nothing matches {pattern}')
    return max(files, key=osp.getmtime)


def best_val(work_dir, metric):
    """Best validation value of ``metric`` in a finished run's scalars."""
    vals = []
    for path in glob.glob(osp.join(work_dir, '*', 'vis_data',
                                   'scalars.json')):
        with open(path) as f:
            vals += [json.loads(line)[metric] for line in f
                     if f'"{metric}"' in line]
    if not vals:
        raise ValueError(f'{work_dir}: no validation with {metric}')
    return max(vals)


def stack_pngs(paths, out):
    """The pngs one under the other (white padding to the widest)."""
    import numpy as np
    from PIL import Image
    imgs = [np.array(Image.open(p).convert('RGB')) for p in paths]
    width = max(i.shape[1] for i in imgs)
    rows = [np.pad(i, ((0, 0), (0, width - i.shape[1]), (0, 0)),
                   constant_values=255) for i in imgs]
    Image.fromarray(np.concatenate(rows, 0)).save(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--stage1-config', default=STAGE1_CONFIG)
    parser.add_argument('--config', default=CONFIG)
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--data-root', default='data/toy_voc/VOC2012')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='extra options for both stages')
    args = parser.parse_args()
    root = args.data_root
    if not osp.isfile(osp.join(root, 'ImageLabels.json')):
        raise SystemExit(f'{root}: no toy VOC with its label cache; run '
                         '`make toy-data` first')
    stage1_dir = osp.join(args.work_dir, 'stage1')
    lrp_dir = osp.join(args.work_dir, 'lrp')
    for d in (stage1_dir, lrp_dir):
        # the demo reruns from scratch (train.py refuses a work dir that
        # holds another run's checkpoints): its own previous run goes
        if osp.isdir(d):
            print(f'removing the previous demo run {d}', flush=True)
            shutil.rmtree(d)
    data1 = [f'train_dataloader.dataset.datasets.0.data_root={root}',
             f'val_dataloader.dataset.data_root={root}']
    data2 = data1 + [f'train_dataloader.dataset.datasets.1.data_root={root}']
    minutes = {}

    start = time.time()
    run(tool('train.py') + [args.stage1_config, '--work-dir', stage1_dir,
                            '--cfg-options'] + data1 + args.cfg_options)
    minutes['stage 1'] = (time.time() - start) / 60
    stage1_ckpt = newest(osp.join(stage1_dir, 'best_cls_mAP_iter_*.pth'))

    t = time.time()
    run(tool('train.py') + [
        args.config, '--work-dir', lrp_dir, '--cfg-options',
        f'load_from={stage1_ckpt}'
    ] + data2 + args.cfg_options)
    minutes['unrolled LRP'] = (time.time() - t) / 60
    ckpt = newest(osp.join(lrp_dir, 'best_mIoU_iter_*.pth'))

    t = time.time()
    test_dir = osp.join(lrp_dir, 'test')
    # the checkpoint's val scores (the toy configs' test loader reads the
    # held-out test split, which the toy experiment reports)
    test_opts = [f'test_dataloader.dataset.data_root={root}',
                 'test_dataloader.dataset.ann_file='
                 'ImageSets/Segmentation/val.txt']
    run(tool('test.py') + [args.config, ckpt, '--work-dir', test_dir,
                           '--cfg-options'] + test_opts)
    with open(newest(osp.join(test_dir, '*', '*.json'))) as f:
        metrics = json.loads(f.readline())
    heat_dir = osp.join(args.work_dir, 'heatmaps')
    run(tool('visualize_heatmaps.py') + [
        args.config, stage1_ckpt, ckpt, '--out', heat_dir, '--indices', '0',
        '1', '2', '--device', 'cpu', '--cfg-options'
    ] + [f'val_dataloader.dataset.data_root={root}'])
    figure = osp.join(args.work_dir, 'heatmaps.png')
    stack_pngs(sorted(glob.glob(osp.join(heat_dir, '*.png'))), figure)
    minutes['test + heatmaps'] = (time.time() - t) / 60
    total = (time.time() - start) / 60

    stage1_map = best_val(stage1_dir, 'cls/mAP')
    print('\n' + '=' * 72)
    print(f'stage 1:      {args.stage1_config}')
    print(f'unrolled LRP: {args.config}')
    print(f'checkpoint:   {ckpt} (best val mIoU)')
    print('validation (toy VOC val, full resolution, 255 ignored): '
          f'mIoU {metrics["mIoU"]:.2f}  mAcc {metrics["mAcc"]:.2f}  '
          f'aAcc {metrics["aAcc"]:.2f}')
    print('classifier (multi-label val mAP, background left out): '
          f'stage 1 {stage1_map:.2f} -> after unrolled LRP '
          f'{metrics["cls/mAP"]:.2f}')
    print('minutes:      ' + ', '.join(f'{k} {v:.1f}'
                                       for k, v in minutes.items())
          + f'; total {total:.1f} ({os.cpu_count()} CPU cores visible)')
    print(f'heatmaps:     {figure} (rows: stage 1, trained)')
    print('=' * 72)


if __name__ == '__main__':
    main()
