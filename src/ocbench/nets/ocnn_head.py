"""OC-NN's head: the one-hidden-layer network y_hat = <w, g(V z)> on an encoder's codes (detectors/ocnn.py)."""
import torch.nn as nn

#: the head's activation g by name: the paper's two choices
ACTIVATIONS = {"sigmoid": nn.Sigmoid, "linear": nn.Identity}


class OCNNHead(nn.Module):
    """y_hat = <w, g(V z)>: hidden layer V (no bias), activation g, output weights w (no bias).

    No biases, as in the paper's objective, whose penalty covers w and V only.
    """

    def __init__(self, rep_dim: int, hidden: int, activation: str = "sigmoid"):
        super().__init__()
        self.V = nn.Linear(rep_dim, hidden, bias=False)
        self.g = ACTIVATIONS[activation]()
        self.w = nn.Linear(hidden, 1, bias=False)

    def forward(self, z):
        return self.w(self.g(self.V(z))).squeeze(1)
