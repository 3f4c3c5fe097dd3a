"""LeNet-type encoders and decoders for MNIST, Fashion-MNIST and CIFAR-10 (REFERENCE.md).

Every "upsample, then deconv" pair of a decoder is computed by ``upsample_deconv``
and the convolutions run on channels-last tensors (``layers``): the same functions
and the same state_dict keys as the plain layer-by-layer forward, only faster on a CPU.
"""
import torch.nn as nn

from .layers import (ACTIVATIONS, bn1d, bn2d, channels_last, conv, deconv, lrelu, to_channels_last,
                     upsample_deconv, xavier)


class MnistLeNet(nn.Module):
    rep_dim = 32

    def __init__(self):
        super().__init__()
        self.pool = nn.MaxPool2d(2, 2)
        self.conv1, self.bn1 = conv(1, 8), bn2d(8)
        self.conv2, self.bn2 = conv(8, 4), bn2d(4)
        self.fc1 = nn.Linear(4 * 7 * 7, self.rep_dim, bias=False)
        channels_last(self)

    def forward(self, x):
        x = to_channels_last(x)
        x = self.pool(lrelu(self.bn1(self.conv1(x))))
        x = self.pool(lrelu(self.bn2(self.conv2(x))))
        return self.fc1(x.flatten(1))


class MnistLeNetDecoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.deconv1, self.bn3 = deconv(2, 4, padding=2), bn2d(4)
        self.deconv2, self.bn4 = deconv(4, 8, padding=3), bn2d(8)  # padding 3: 16x16 -> 14x14
        self.deconv3 = deconv(8, 1, padding=2)
        channels_last(self)

    def forward(self, z):
        # reshape, lrelu, up; deconv1 BN lrelu up; deconv2 BN lrelu up; deconv3; sigmoid
        x = to_channels_last(lrelu(z.view(z.size(0), 2, 4, 4)))
        x = lrelu(self.bn3(upsample_deconv(x, self.deconv1)))
        x = lrelu(self.bn4(upsample_deconv(x, self.deconv2)))
        return upsample_deconv(x, self.deconv3).sigmoid()


class FmnistLeNet(nn.Module):
    rep_dim = 64

    def __init__(self):
        super().__init__()
        self.pool = nn.MaxPool2d(2, 2)
        self.conv1, self.bn1 = conv(1, 16), bn2d(16)
        self.conv2, self.bn2 = conv(16, 32), bn2d(32)
        self.fc1, self.bn3 = nn.Linear(32 * 7 * 7, 128, bias=False), bn1d(128)
        self.fc2 = nn.Linear(128, self.rep_dim, bias=False)
        channels_last(self)

    def forward(self, x):
        x = to_channels_last(x)
        x = self.pool(lrelu(self.bn1(self.conv1(x))))
        x = self.pool(lrelu(self.bn2(self.conv2(x))))
        x = lrelu(self.bn3(self.fc1(x.flatten(1))))
        return self.fc2(x)


class FmnistLeNetDecoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc3, self.bn4 = nn.Linear(64, 128, bias=False), bn1d(128)
        self.deconv1, self.bn5 = deconv(8, 32, padding=2), bn2d(32)
        self.deconv2, self.bn6 = deconv(32, 16, padding=3), bn2d(16)
        self.deconv3 = deconv(16, 1, padding=2)
        channels_last(self)

    def forward(self, z):
        # linear BN1d, reshape, lrelu, up; deconv1 BN lrelu up; deconv2 BN lrelu up; deconv3; sigmoid
        x = self.bn4(self.fc3(z)).view(z.size(0), 8, 4, 4)
        x = to_channels_last(lrelu(x))
        x = lrelu(self.bn5(upsample_deconv(x, self.deconv1)))
        x = lrelu(self.bn6(upsample_deconv(x, self.deconv2)))
        return upsample_deconv(x, self.deconv3).sigmoid()


class Cifar10LeNet(nn.Module):
    """``activation``: ``leaky_relu`` (the references' CIFAR-10 LeNet) or ``elu`` (the Deep
    SVDD reference's ``cifar10_LeNet_ELU``, with its plain Xavier draws)."""

    rep_dim = 128

    def __init__(self, activation: str = "leaky_relu"):
        super().__init__()
        self.act, gain = ACTIVATIONS[activation]
        self.pool = nn.MaxPool2d(2, 2)
        self.conv1, self.bn1 = conv(3, 32), bn2d(32)
        self.conv2, self.bn2 = conv(32, 64), bn2d(64)
        self.conv3, self.bn3 = conv(64, 128), bn2d(128)
        self.fc1 = nn.Linear(128 * 4 * 4, self.rep_dim, bias=False)
        xavier(self, gain)
        channels_last(self)

    def forward(self, x):
        act = self.act
        x = to_channels_last(x)
        x = self.pool(act(self.bn1(self.conv1(x))))
        x = self.pool(act(self.bn2(self.conv2(x))))
        x = self.pool(act(self.bn3(self.conv3(x))))
        return self.fc1(x.flatten(1))


class Cifar10LeNetDecoder(nn.Module):
    def __init__(self, activation: str = "leaky_relu"):
        super().__init__()
        self.act, gain = ACTIVATIONS[activation]
        self.deconv1, self.bn4 = deconv(8, 128), bn2d(128)
        self.deconv2, self.bn5 = deconv(128, 64), bn2d(64)
        self.deconv3, self.bn6 = deconv(64, 32), bn2d(32)
        self.deconv4 = deconv(32, 3)
        xavier(self, gain)
        channels_last(self)

    def forward(self, z):
        # reshape, act; deconv1 BN act up; deconv2 BN act up; deconv3 BN act up; deconv4; sigmoid
        act = self.act
        x = to_channels_last(act(z.view(z.size(0), 8, 4, 4)))
        x = act(self.bn4(self.deconv1(x)))
        x = act(self.bn5(upsample_deconv(x, self.deconv2)))
        x = act(self.bn6(upsample_deconv(x, self.deconv3)))
        return upsample_deconv(x, self.deconv4).sigmoid()
