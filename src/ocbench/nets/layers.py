"""Building blocks shared by every network: the references' choices, kept in one place.

No bias and no affine batch norm anywhere: a bias (or a BN shift) lets a Deep SVDD
network map every input onto the centre c, the trivial "hypersphere collapse".

Two ways of computing the same functions faster on a CPU, neither of which changes
a weight, a parameter name or what a layer computes:

- ``upsample_deconv`` does "2x nearest upsampling, then a stride-1 transposed
  convolution" as one convolution on the small input (see its docstring);
- ``channels_last`` stores the (de)convolution weights in NHWC order, and the LeNets
  feed their inputs in that order: oneDNN's NHWC kernels are about twice as fast for
  these narrow layers as its NCHW ones.
"""
from functools import lru_cache

import torch
import torch.nn as nn
import torch.nn.functional as F

BN_EPS = 1e-4
LEAKY_SLOPE = 0.01


def conv(in_ch: int, out_ch: int, padding: int = 2) -> nn.Conv2d:
    return nn.Conv2d(in_ch, out_ch, 5, bias=False, padding=padding)


def deconv(in_ch: int, out_ch: int, padding: int = 2) -> nn.ConvTranspose2d:
    return nn.ConvTranspose2d(in_ch, out_ch, 5, bias=False, padding=padding)


def bn2d(ch: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(ch, eps=BN_EPS, affine=False)


def bn1d(n: int) -> nn.BatchNorm1d:
    return nn.BatchNorm1d(n, eps=BN_EPS, affine=False)


def lrelu(x):
    return F.leaky_relu(x, LEAKY_SLOPE)


def upsample(x):
    # The references upsample with F.interpolate's default mode, nearest.
    return F.interpolate(x, scale_factor=2)


def elu(x):
    return F.elu(x)


#: the activations a LeNet can use, and the gain of the Xavier draw that goes with each: the
#: CIFAR-10 reference's leaky-ReLU gain, and its ELU variant's plain ``xavier_uniform_`` (gain 1)
ACTIVATIONS = {"leaky_relu": (lrelu, nn.init.calculate_gain("leaky_relu")), "elu": (elu, 1.0)}


def xavier(module: nn.Module, gain: float) -> None:
    """Xavier-uniform init with ``gain`` on every (de)conv, as the CIFAR-10 references."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.xavier_uniform_(m.weight, gain=gain)


def channels_last(module: nn.Module) -> nn.Module:
    """Store the module's 4-d weights in NHWC order (the values stay the same); returns it."""
    return module.to(memory_format=torch.channels_last)


def is_stacked(x: torch.Tensor) -> bool:
    """Whether ``x`` is one model's slice of K stacked models (inside ``torch.func.vmap``,
    ``training.train_stacked``): vmap cannot query or set a memory format, and its grouped
    kernels choose their own layout, so the channels-last steps are skipped there."""
    return torch._C._functorch.is_batchedtensor(x)


def to_channels_last(x: torch.Tensor) -> torch.Tensor:
    if is_stacked(x):
        return x
    return x.contiguous(memory_format=torch.channels_last)


@lru_cache(maxsize=None)
def _phase_taps(kernel: int, padding: int, device: torch.device, dtype: torch.dtype):
    """(M, left_pad): M[r, t, k] = 1 when kernel tap k feeds output phase r through input offset t - left_pad.

    In one dimension, with u the 2x nearest upsampling of x (u[m] = x[m // 2]), a
    stride-1 transposed convolution gives y[o] = sum_k u[o + p - k] w[k]. For an output
    o = 2a + r this reads x[a + d] with d = floor((r + p - k) / 2), so each output
    phase r is an ordinary correlation of x with the summed taps of equal d.
    """
    offsets = [[(r + padding - k) // 2 for k in range(kernel)] for r in (0, 1)]
    low = min(min(row) for row in offsets)
    high = max(max(row) for row in offsets)
    taps = torch.zeros(2, high - low + 1, kernel, dtype=dtype, device=device)
    for r, row in enumerate(offsets):
        for k, d in enumerate(row):
            taps[r, d - low, k] = 1.0
    return taps, -low


def upsample_deconv(x: torch.Tensor, deconv_layer: nn.ConvTranspose2d) -> torch.Tensor:
    """``deconv_layer(upsample(x))``, computed without building the upsampled tensor.

    Nearest upsampling repeats each input pixel in a 2x2 block, so every output pixel
    of the following transposed convolution sees each input pixel through a sum of
    kernel taps. Grouped by output phase (row and column parity) this is a plain
    convolution of the small input with a 4x-wider, shorter kernel, whose four output
    phases ``pixel_shuffle`` interleaves. It is the same function of x and of the
    layer's weight (only the order of the additions differs), at about a third of the
    work, and its backward pass avoids the slow transposed-convolution kernels.
    Only stride-1, bias-free, square-kernel layers (all of this package's) qualify.
    """
    if deconv_layer.bias is not None or deconv_layer.stride != (1, 1) or deconv_layer.output_padding != (0, 0) \
            or deconv_layer.dilation != (1, 1) or deconv_layer.groups != 1:
        raise ValueError("upsample_deconv needs a bias-free, stride-1, ungrouped ConvTranspose2d")
    weight = deconv_layer.weight  # (in, out, k, k), the transposed-convolution layout
    kernel, padding = deconv_layer.kernel_size[0], deconv_layer.padding[0]
    taps, left = _phase_taps(kernel, padding, weight.device, weight.dtype)
    width = taps.shape[1]
    # phase_weight[o, r, s, i] = taps[r] @ weight[i, o] @ taps[s]^T, then (o, r, s) -> channels
    phase_weight = torch.einsum("rak,sbl,iokl->orsiab", taps, taps, weight)
    phase_weight = phase_weight.reshape(-1, weight.shape[0], width, width)
    if not is_stacked(x) and x.is_contiguous(memory_format=torch.channels_last):
        phase_weight = phase_weight.contiguous(memory_format=torch.channels_last)
    out_h, out_w = (2 * n - 1 - 2 * padding + kernel for n in x.shape[-2:])
    # the phase grid must cover ceil(out / 2) positions: pad the right side to get them
    right_h = (out_h + 1) // 2 + width - 1 - x.shape[-2] - left
    right_w = (out_w + 1) // 2 + width - 1 - x.shape[-1] - left
    if right_h == right_w == left:
        y = F.conv2d(x, phase_weight, padding=left)
    else:
        y = F.conv2d(F.pad(x, (left, right_w, left, right_h)), phase_weight)
    return F.pixel_shuffle(y, 2)[..., :out_h, :out_w]
