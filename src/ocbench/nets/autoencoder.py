"""An encoder and its mirror decoder as one module (what pretraining trains and shares)."""
import torch.nn as nn


class Autoencoder(nn.Module):
    """An encoder (the very class a deep detector uses) followed by its mirror decoder.

    Because ``encoder`` is an instance of the detector's network class, handing the
    pretrained weights over is a plain ``load_state_dict`` with every key matching.
    """

    def __init__(self, encoder: nn.Module, decoder: nn.Module):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def forward(self, x):
        return self.decoder(self.encoder(x))
