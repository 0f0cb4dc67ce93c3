"""Compare finished runs: read their work dirs, print a markdown table.

    python tools/analysis_tools/collect_results.py work_dirs/* \\
        [--metric mIoU] [--extra cls/mAP] [--out results.md]

For every work dir the best validation value of ``--metric`` (the run's
best checkpoint), grouped by model (the first two parts of the config name)
and number of pixel-labelled images (the length of its split file), with
mean ± sample std over the runs (seeds) of a group. Say which evaluation
protocol the configs used when quoting the numbers.
"""
import argparse

from mmseg_lrp.utils.results import markdown_table, read_run, summarize


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('work_dirs', nargs='+')
    parser.add_argument('--metric', default='mIoU')
    parser.add_argument('--extra', nargs='*', default=[],
                        help='more validation metrics to average, e.g. '
                        'cls/mAP')
    parser.add_argument('--out', default=None, help='also write the table')
    return parser.parse_args()


def main():
    args = parse_args()
    runs = [read_run(d, args.metric) for d in args.work_dirs]
    for r in runs:
        print(f"{r['work_dir']}: {r['config']}, {r['pixel_labels']} pixel "
              f"labels, seed {r['seed']}: best {args.metric} "
              f"{r['best']:.2f} at iteration {r['step']}")
    table = markdown_table(summarize(runs, args.extra), args.metric,
                           args.extra)
    print('\n' + table)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(table + '\n')


if __name__ == '__main__':
    main()
