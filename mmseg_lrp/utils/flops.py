"""FLOPs and parameters of a segmentor's inference forward."""
import torch
from mmengine import Config
from mmengine.analysis import get_model_complexity_info
from mmengine.analysis.print_helper import _format_size
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope

from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from .config_check import explain_build_errors


def get_flops(cfg: Config, shape, device: str = None) -> dict:
    """FLOPs and parameters of ``cfg.model`` on one random image.

    Counted by mmengine's analysis (traced conv/matmul/... ops) on the
    ``mode='tensor'`` forward: backbone and decode head, i.e. for the
    unrolled-LRP model the encoder and all K heatmaps. Auxiliary heads are
    removed first (training-only in mmseg), as mmseg's get_flops does.

    Args:
        cfg: The config.
        shape: ``(H, W)`` or ``(S,)`` of the input image.
        device: Where to run (default: CUDA if available).

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
    if device is None:
        device = 'cuda' if torch.cuda.is_available() else 'cpu'
    model.to(device)
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
