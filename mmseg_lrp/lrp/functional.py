"""LRP rules as pure functions: the arithmetic behind the rule objects.

The rule classes in :mod:`.rules` decide what applies to a layer and with
which parameters (most are instances of the ``LinearRule`` template); the
functions here only compute: guarded division, adjoints, batch norm,
pooling.

Shapes: a record's tensors have the batch first, ``(N, ...)``; relevance
carries the classes in front, ``(K, N, ...)``, so every class-independent term
(``z``, ``a``, ratios, pooling indices) is computed once and broadcast over
the classes. All rules are linear in the relevance and differentiable w.r.t.
the encoder's weights and activations (the decoder is *tied*: it uses the
encoder's own weight tensors).

Notation (see docs): ``a`` layer input, ``z`` layer output (pre-activation,
bias included), ``R`` relevance at the output.
"""
from typing import Callable, NamedTuple, Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor
from torch.nn.modules.utils import _pair

Select = Callable[[Tensor], Tensor]


class Scaled(NamedTuple):
    """Relevance ``R * f`` kept as two factors: ``R`` ``(K, n, ...)`` and a
    per-sample factor ``f`` ``(n, ...)`` shared by all classes.

    A chain conv -> BN -> ReLU -> conv multiplies the relevance by the
    conv's input, BN's factor and the next conv's ``1 / z``: each is
    class-independent, so they are multiplied together first and into the
    K-times larger relevance once, right before the next transposed
    convolution (rules that take it set ``lazy = True``; all others get
    :func:`dense` relevance).
    """
    R: Tensor
    f: Tensor

    def scale(self, f: Tensor) -> 'Scaled':
        return Scaled(self.R, self.f * f)


def dense(R: Union[Tensor, Scaled]) -> Tensor:
    """The relevance as one tensor."""
    return R.R * R.f if isinstance(R, Scaled) else R


def scaled(R: Union[Tensor, Scaled], f: Tensor) -> Scaled:
    """``R * f``, lazily."""
    return R.scale(f) if isinstance(R, Scaled) else Scaled(R, f)


HALF = (torch.float16, torch.bfloat16)


def full_precision(t: Tensor) -> Tensor:
    """A layer output that autocast made half precision, as float32.

    The decoder's gradient cancels terms of size ``R / z**2`` between the
    two ways it depends on a layer output ``z`` (directly, and through the
    layers above it); they must meet in float32 before reaching the half
    precision graph (ResNet-50 under fp16: 0.37 off the float64 gradient
    without this, 0.12 with it; tests/test_lrp_grad.py). So the recorder
    hands every layer after an autocast conv / linear a float32 input: the
    matrix products stay in half precision, the element-wise layers (BN,
    ReLU, pooling) run in float32, and the tape is float32.
    """
    if t.dtype in HALF and torch.is_autocast_enabled(t.device.type):
        return t.float()
    return t


def stabilize(z: Tensor, eps: float) -> Tensor:
    """``z + eps * sign(z)`` with ``sign(0) = 1``: never divides by 0."""
    return z + eps * torch.where(z >= 0, 1.0, -1.0).to(z.dtype)


STABILIZERS = ('cutoff', 'sign', 'shift')
# the original code's guard inside its safe_divide (network/xai/LRP_layers.py)
SAFE_DIVIDE_GUARD = 1e-9


def divide(R: Tensor, z: Tensor, eps: float, stabilizer: str = 'sign'
           ) -> Tensor:
    """``R / z`` guarded against ``z = 0``; the heart of every rule.

    Args:
        R: Numerator (may carry leading class dims; broadcast against z).
        z: Denominator (an activation).
        eps: Stabilizer.
        stabilizer: ``'sign'``: ``R / (z + eps * sign(z))``, the LRP-epsilon
            rule. ``'cutoff'``: ``R / z`` where ``|z| > eps``, 0 elsewhere
            (LRP-0 with units at ``|z| <= eps`` passing nothing on).
            ``'shift'``: the original code's ``safe_divide(R, z + eps)``,
            a positive shift whatever the sign of ``z``: ``R / (z + eps +
            1e-9)``, 0 where ``z + eps == 0`` (near ``z = -eps`` it divides
            by almost 0, as the original does).

    The two give the same values up to ``eps``, but not the same gradient
    w.r.t. the encoder's weights: R carries a factor of z from the layers
    above, and with ``'sign'`` the ratio's derivative keeps
    ``eps / (z + eps)**2``, a spike of height up to ``1 / eps`` at every
    unit near 0. With eps = 1e-8 those spikes outweigh the gradient of the
    segmentation loss by 2-3 orders of magnitude (tests/test_lrp_grad.py);
    ``'cutoff'`` gives the gradient of gradient x input (LRP-0's values)
    and keeps it under half precision.
    """
    return R * reciprocal(z, eps, stabilizer)


def reciprocal(z: Tensor, eps: float, stabilizer: str = 'sign') -> Tensor:
    """``1 / z`` guarded as in :func:`divide`: computed once per activation
    and multiplied into the (K times larger) relevance, whose division and
    masking would cost K times more, forward and backward."""
    if stabilizer == 'sign':
        return 1. / stabilize(z, eps)
    if stabilizer == 'shift':
        # safe_divide(a, b) with b = z + eps: its denominator
        # b.clamp(min=g) + b.clamp(max=g) is b + g for every b, bumped to g
        # where that is 0, and the ratio is zeroed where b == 0
        b = z + eps
        den = b + SAFE_DIVIDE_GUARD
        den = torch.where(den == 0, SAFE_DIVIDE_GUARD, den)
        return torch.where(b != 0, 1. / den, 0.)
    if stabilizer != 'cutoff':
        raise ValueError(f'stabilizer must be one of {STABILIZERS}, got '
                         f'{stabilizer!r}')
    live = z.abs() > eps
    return torch.where(live, 1. / torch.where(live, z, 1.), 0.)


def _fold(r: Tensor) -> Tensor:
    return r.flatten(0, 1)


def _unfold(r: Tensor, k: int) -> Tensor:
    return r.unflatten(0, (k, -1))


def conv_transpose(s: Tensor, weight: Tensor, module,
                   in_shape: torch.Size) -> Tensor:
    """``W^T s`` of a conv layer: the adjoint of ``module``'s convolution.

    Args:
        s: ``(K, N, C_out, h, w)``.
        weight: Weight of the convolution (possibly modified, e.g. ``W+``).
        module: The ``nn.Conv2d`` (stride, padding, dilation, groups).
        in_shape: Shape of the layer input ``(N, C_in, H, W)``.

    Returns:
        ``(K, N, C_in, H, W)``.
    """
    stride, padding = _pair(module.stride), _pair(module.padding)
    dilation, ks = _pair(module.dilation), weight.shape[-2:]
    out_pad = tuple(
        in_shape[2 + i] - ((s.shape[3 + i] - 1) * stride[i] - 2 * padding[i]
                           + dilation[i] * (ks[i] - 1) + 1) for i in range(2))
    c = F.conv_transpose2d(_fold(s), weight, None, stride, padding, out_pad,
                           module.groups, dilation)
    return _unfold(c, s.shape[0])


def _keep(t: Tensor) -> Tensor:
    return t


def probe_adjoint(fn: Callable[[Tensor], Tensor], s: Tensor,
                  in_shape: torch.Size) -> Tensor:
    """``J^T s`` of a linear map ``fn`` (any layer's linear part, e.g. a
    modified forward), from autograd: the vector-Jacobian product at a zero
    probe (a linear map's Jacobian does not depend on where it is taken).

    Args:
        fn: Takes ``(K, *in_shape)`` and returns ``(K, *out_shape)``; the
            leading class dim must pass through (broadcasting ops, or fold
            it into the batch with :func:`folded`).
        s: ``(K, *out_shape)``.
        in_shape: Shape of the layer input ``(n, ...)``.

    Returns:
        ``(K, *in_shape)``, differentiable w.r.t. ``s`` and whatever ``fn``
        uses (the tied weights), so the decoder stays trainable.
    """
    # Inside a checkpointed region (memory-bounded decoding) the region's
    # saved-tensor hooks would drop what the probe's graph saves, and the
    # grad call below would recompute the whole region to get it back, once
    # per call: the probe's graph keeps its own (small) tensors instead.
    graph = torch.is_grad_enabled() or s.requires_grad
    with torch.enable_grad(), torch.autograd.graph.saved_tensors_hooks(
            _keep, _keep):
        probe = torch.zeros((s.shape[0], ) + tuple(in_shape), dtype=s.dtype,
                            device=s.device, requires_grad=True)
        out = fn(probe)
        if out.shape != s.shape:
            raise RuntimeError(f'linear map gives {tuple(out.shape)}, '
                               f'relevance is {tuple(s.shape)}')
        (c, ) = torch.autograd.grad(out, probe, s, create_graph=graph)
    return c


def folded(fn: Callable[[Tensor], Tensor]) -> Callable[[Tensor], Tensor]:
    """``fn`` for layers that take exactly ``(N, ...)`` (convolutions):
    the class dim is folded into the batch and back."""

    def run(t: Tensor) -> Tensor:
        return _unfold(fn(_fold(t)), t.shape[0])

    return run


def conv(module, a: Tensor, weight: Tensor) -> Tensor:
    return F.conv2d(a, weight, None, module.stride, module.padding,
                    module.dilation, module.groups)


def synced_bn(module) -> bool:
    """Whether a BN layer normalises with statistics of all ranks."""
    return (isinstance(module, torch.nn.SyncBatchNorm)
            and torch.distributed.is_available()
            and torch.distributed.is_initialized()
            and torch.distributed.get_world_size() > 1)


def _global_var(x: Tensor, dims) -> Tensor:
    """Biased variance over all ranks' batches, as SyncBatchNorm computes
    it; differentiable (autograd-aware all_reduce), so gradients reach
    every rank's input as SyncBatchNorm's own backward does."""
    from torch.distributed.nn.functional import all_reduce
    n = x.new_tensor([x.numel() / x.shape[1]])
    stats = all_reduce(torch.cat([x.sum(dims), (x * x).sum(dims), n]))
    c = x.shape[1]
    total = stats[2 * c]
    mean = stats[:c] / total
    return stats[c:2 * c] / total - mean * mean


def batch_norm(module, gamma: Optional[Tensor], x: Tensor, y: Tensor,
               R: Optional[Tensor], eps: float, select: Select,
               detach_factors: bool = False,
               stabilizer: str = 'sign') -> Tensor:
    """LRP-0 of BatchNorm as the affine map ``y = (gamma/sigma) x + beta``.

    ``R_in = (gamma / sigma) * (x / y) * R`` with ``sigma`` from this batch's
    statistics if the forward used them (train mode; for SyncBatchNorm under
    DDP the statistics of all ranks' batches, gathered as SyncBatchNorm
    does, so every rank must take part), else from the running statistics.
    The BN module is never re-run (its running statistics stay untouched).

    Args:
        module: The BN layer.
        gamma: The decoder's scale (the module's own weight, or a copy).
        x: Its full-batch input (batch statistics need the whole batch).
        y: Its full-batch output.
        R: ``(K, n, C, H, W)`` relevance for the selected samples, or None:
            return the factor ``(n, C, H, W)`` that multiplies it.
        eps: Stabilizer of the division by ``y``.
        select: Picks the decoded samples from a full-batch tensor.
        detach_factors: Treat ``gamma / sigma`` and ``x / y`` as constants
            in the backward pass (the original code's choice); the values
            are the same.
        stabilizer: Of the division by ``y``, see :func:`divide`.
    """
    use_batch = module.training or not module.track_running_stats \
        or module.running_var is None
    if use_batch:
        dims = [0] + list(range(2, x.dim()))
        if synced_bn(module):
            var = _global_var(x, dims)
        else:
            var = x.var(dim=dims, unbiased=False)
    else:
        var = module.running_var
    scale = torch.rsqrt(var + module.eps)
    if gamma is not None:
        scale = scale * gamma
    shape = (1, -1) + (1, ) * (x.dim() - 2)
    factor = divide(select(x) * scale.view(shape), select(y), eps,
                    stabilizer)
    factor = factor.detach() if detach_factors else factor
    return factor if R is None else factor * R


def max_pool(module, a: Tensor, R: Tensor, overwrite: bool = False
             ) -> Tensor:
    """Winner-take-all for ``nn.MaxPool2d``.

    Indices are recomputed from the stored input with the module's own
    settings (the same kernel as the forward pass, so the same argmax).
    Where overlapping windows share an argmax, their relevance is summed
    (exact, conserving), or with ``overwrite`` the window that comes last
    in raster order wins, as ``F.max_unpool2d`` does on the CPU (the
    original code's unpooling; deterministic here).
    """
    if module.return_indices:
        raise NotImplementedError('MaxPool2d(return_indices=True)')
    _, idx = F.max_pool2d(a, module.kernel_size, module.stride,
                          module.padding, module.dilation, module.ceil_mode,
                          return_indices=True)
    k = R.shape[0]
    flat = idx.flatten(2)
    src = R.flatten(3)
    if overwrite:
        # keep, per input position, only the last window that points at it
        pos = torch.arange(flat.shape[-1], device=flat.device).expand_as(flat)
        last = torch.full(a.shape[:2] + (a.shape[2] * a.shape[3], ), -1,
                          dtype=pos.dtype, device=pos.device)
        last = last.scatter_reduce(2, flat, pos, 'amax')
        src = src * (last.gather(2, flat) == pos).to(src.dtype)
    flat_idx = flat.unsqueeze(0).expand(k, -1, -1, -1)
    out = R.new_zeros((k, ) + a.shape[:2] + (a.shape[2] * a.shape[3], ))
    out = out.scatter_add(3, flat_idx, src)
    return out.view((k, ) + tuple(a.shape))


def _tiling_pool(module, in_shape: torch.Size) -> Optional[tuple]:
    """``(kh, kw, divisor)`` if ``module`` averages non-overlapping tiles
    that cover its input exactly, else None."""
    h, w = in_shape[-2:]
    if isinstance(module, nn.AdaptiveAvgPool2d):
        oh, ow = _pair(module.output_size)
        oh, ow = oh or h, ow or w
        if h % oh or w % ow:
            return None
        kh, kw = h // oh, w // ow
        return kh, kw, kh * kw
    if isinstance(module, nn.AvgPool2d):
        (kh, kw), stride = _pair(module.kernel_size), _pair(
            module.stride or module.kernel_size)
        if (kh, kw) != stride or _pair(module.padding) != (0, 0) or \
                h % kh or w % kw:
            return None
        return kh, kw, module.divisor_override or kh * kw
    return None


def avg_pool(module, a: Tensor, z: Tensor, R: Tensor, eps: float,
             stabilizer: str = 'sign') -> Tensor:
    """LRP-0 of a (adaptive) average pooling: ``R_in = a * P^T (R / z)``.

    ``P^T`` is the adjoint of the linear pooling map: in closed form for
    pooling over non-overlapping tiles (global average pooling included;
    traceable, e.g. by the FLOP counter), else as the pooling's
    vector-Jacobian product (exact for a linear map, any settings).
    """
    s = divide(R, z, eps, stabilizer)
    tiles = _tiling_pool(module, a.shape)
    if tiles is not None:
        kh, kw, divisor = tiles
        c = s.repeat_interleave(kh, -2).repeat_interleave(kw, -1) / divisor
        return a * c
    return a * probe_adjoint(folded(module), s, a.shape)
