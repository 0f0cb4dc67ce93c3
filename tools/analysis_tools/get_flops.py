"""FLOPs and parameters of a segmentor (mmseg's get_flops.py, fixed).

mmseg 1.2.2's script passes both ``input_shape`` and ``inputs`` to mmengine
0.10.7's ``get_model_complexity_info``, which raises ``"input_shape" and
"inputs" cannot be both set``. This copy passes the preprocessed ``inputs``
only, and loads the plugin.

    python tools/analysis_tools/get_flops.py CONFIG --shape 512 512
"""
import argparse
import tempfile

import torch
from mmengine import Config, DictAction
from mmengine.analysis import get_model_complexity_info
from mmengine.analysis.print_helper import _format_size
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope

import mmseg_lrp  # noqa: F401
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg_lrp.utils import explain_build_errors


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


def get_flops(cfg: Config, shape) -> dict:
    """FLOPs and parameters of ``cfg.model`` on one random image.

    Args:
        cfg: The config.
        shape: ``(H, W)`` or ``(S,)`` of the input image.

    Returns:
        dict: ``flops`` and ``params`` (raw numbers), ``flops_str``,
        ``params_str`` and the ``input_shape`` after preprocessing.
    """
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    if len(shape) == 1:
        shape = (shape[0], shape[0])
    elif len(shape) != 2:
        raise ValueError(f'invalid input shape {shape}')
    with explain_build_errors(cfg):
        model = MODELS.build(cfg.model)
    if hasattr(model, 'auxiliary_head'):
        model.auxiliary_head = None
    if torch.cuda.is_available():
        model.cuda()
    model = revert_sync_batchnorm(model)
    meta = dict(ori_shape=tuple(shape), pad_shape=tuple(shape))
    data = model.data_preprocessor({
        'inputs': [torch.rand((3, ) + tuple(shape))],
        'data_samples': [SegDataSample(metainfo=meta)]
    })
    model.eval()
    outputs = get_model_complexity_info(
        model, inputs=data['inputs'], show_table=False, show_arch=False)
    return dict(
        flops=outputs['flops'],
        params=outputs['params'],
        flops_str=_format_size(outputs['flops']),
        params_str=_format_size(outputs['params']),
        input_shape=tuple(data['inputs'].shape[-2:]))


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    cfg.work_dir = tempfile.mkdtemp()
    cfg.log_level = 'WARN'
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    result = get_flops(cfg, args.shape)
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
