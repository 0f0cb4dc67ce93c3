"""The main job of ``make demo``: train, then test the best checkpoint.

Runs the plugin's own ``tools/train.py`` and ``tools/test.py`` (as a user
would) on the toy VOC and prints the validation mIoU of the best checkpoint.

    python tools/demo.py CONFIG [--work-dir DIR] [--cfg-options ...]
"""
import argparse
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import time

HERE = osp.dirname(osp.abspath(__file__))


def run(cmd):
    print('+ ' + ' '.join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def newest(pattern):
    files = glob.glob(pattern)
    if not files:
        raise FileNotFoundError(f'nothing matches {pattern}')
    return max(files, key=osp.getmtime)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--cfg-options', nargs='+', default=[])
    args = parser.parse_args()

    extra = ['--cfg-options'] + args.cfg_options if args.cfg_options else []
    start = time.time()
    run([sys.executable, osp.join(HERE, 'train.py'), args.config,
         '--work-dir', args.work_dir] + extra)
    train_s = time.time() - start
    ckpt = newest(osp.join(args.work_dir, 'best_mIoU_iter_*.pth'))
    test_dir = osp.join(args.work_dir, 'test')
    run([sys.executable, osp.join(HERE, 'test.py'), args.config, ckpt,
         '--work-dir', test_dir] + extra)
    with open(newest(osp.join(test_dir, '*', '*.json'))) as f:
        metrics = json.loads(f.readline())
    print('\n' + '=' * 72)
    print(f'config:      {args.config}')
    print(f'checkpoint:  {ckpt} (best on val; trained in {train_s:.0f} s, '
          f'{os.cpu_count()} CPU cores visible)')
    print('validation (toy VOC val, full resolution, 255 ignored): '
          f'mIoU {metrics["mIoU"]:.2f}  mAcc {metrics["mAcc"]:.2f}  '
          f'aAcc {metrics["aAcc"]:.2f}')
    if 'cls/mAP' in metrics:
        print('classifier (multi-label, background left out): '
              f'mAP {metrics["cls/mAP"]:.2f}  F1 {metrics["cls/F1"]:.2f}')
    print('=' * 72)


if __name__ == '__main__':
    main()
