"""The small CNN classifier that the adversarial setting's attack attacks (data/adversarial.py)."""
import torch.nn as nn


def classifier_network(input_shape, n_classes: int) -> nn.Sequential:
    """A small CNN for ``input_shape`` (C×H×W) images: two 3×3 convolutions (32, 64 channels) with ReLU
    and 2×2 max pooling, a hidden layer of 128 units, then one logit per class."""
    channels, height, width = (int(n) for n in input_shape)
    return nn.Sequential(
        nn.Conv2d(channels, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * (height // 4) * (width // 4), 128), nn.ReLU(),
        nn.Linear(128, int(n_classes)))
