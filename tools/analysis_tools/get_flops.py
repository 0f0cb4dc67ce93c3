"""FLOPs and parameters of a segmentor (mmseg's get_flops.py, fixed).

mmseg 1.2.2's script passes both ``input_shape`` and ``inputs`` to mmengine
0.10.7's ``get_model_complexity_info``, which raises ``"input_shape" and
"inputs" cannot be both set``. This copy passes the preprocessed ``inputs``
only, and loads the plugin.

    python tools/analysis_tools/get_flops.py CONFIG --shape 512 512
"""
import argparse

from mmengine import Config, DictAction

import mmseg_lrp.plugin  # noqa: F401
from mmseg_lrp.utils.flops import get_flops


def parse_args():
    parser = argparse.ArgumentParser(
        description='Get the FLOPs of a segmentor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--shape',
        type=int,
        nargs='+',
        default=[2048, 1024],
        help='input image size (H W, or one value for a square)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file.')
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    cfg.log_level = 'WARN'
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    result = get_flops(cfg, args.shape)  # builds the model, no runner
    split_line = '=' * 30
    print(f'{split_line}\nCompute type: direct: randomly generate a picture\n'
          f'Input shape: {result["input_shape"]}\n'
          f'Flops: {result["flops_str"]}\nParams: {result["params_str"]}\n'
          f'{split_line}')
    print('!!!Please be cautious if you use the results in papers. '
          'You may need to check if all ops are supported and verify '
          'that the flops computation is correct.')


if __name__ == '__main__':
    main()
