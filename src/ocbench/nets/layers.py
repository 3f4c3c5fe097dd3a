"""Building blocks shared by every network: the references' choices, kept in one place.

No bias and no affine batch norm anywhere: a bias (or a BN shift) lets a Deep SVDD
network map every input onto the centre c, the trivial "hypersphere collapse".
"""
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


def xavier_leaky(module: nn.Module) -> None:
    """Xavier-uniform init with the leaky-ReLU gain on every (de)conv, as the CIFAR-10 reference."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.xavier_uniform_(m.weight, gain=nn.init.calculate_gain("leaky_relu"))
