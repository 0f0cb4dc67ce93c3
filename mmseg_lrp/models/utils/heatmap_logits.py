"""From LRP heatmaps to segmentation logits: a scale and a per-class bias."""
from typing import Optional, Union

from torch import Tensor


def check_heatmap_options(scale: Union[float, str], bias: bool,
                          frozen: bool) -> None:
    """Refuse a bad ``heatmap_scale``, or ``frozen`` without a bias.

    Args:
        scale: ``heatmap_scale``: ``'pixels'`` or a positive number.
        bias: ``heatmap_bias``.
        frozen: ``frozen``, which fits only the bias.
    """
    if not (scale == 'pixels' or
            (isinstance(scale, (int, float)) and scale > 0)):
        raise ValueError("heatmap_scale must be a positive number or "
                         f"'pixels', got {scale!r}")
    if frozen and not bias:
        raise ValueError('frozen=True fits only heatmap_bias: set '
                         'heatmap_bias=True')


def heatmap_logits(heat: Tensor, scale: Union[float, str],
                   bias: Optional[Tensor] = None,
                   classes: Optional[Tensor] = None) -> Tensor:
    """Heatmaps as segmentation logits: ``scale * H_k + bias_k``.

    LRP conserves ``sum(H_k) = z_k``, so at H x W pixels unscaled heatmaps
    start ~1/(HW) of a logit apart and the segmentation loss sits at ln K
    until the weights grow by orders of magnitude; ``'pixels'`` (times
    H x W: a heatmap's mean is its class logit) removes that wait when
    training from a random or classification-only initialisation. A
    positive scale changes no prediction (the per-pixel argmax); it is the
    softmax temperature of the segmentation loss. The bias is a learnt
    per-class threshold.

    Args:
        heat: ``(n, k, H, W)`` heatmaps.
        scale: ``'pixels'`` or a positive number (1: unchanged).
        bias: ``(K, )`` per-class offsets, or None.
        classes: ``(n, k)`` the class of each map (default: all K in
            order), to pick the bias.

    Returns:
        ``(n, k, H, W)`` logits.
    """
    if scale == 'pixels':
        heat = heat * float(heat.shape[-2] * heat.shape[-1])
    elif scale != 1:
        heat = heat * float(scale)
    if bias is not None:
        bias = bias.to(heat.dtype)
        bias = bias.view(1, -1) if classes is None else bias[classes]
        heat = heat + bias[..., None, None]
    return heat
