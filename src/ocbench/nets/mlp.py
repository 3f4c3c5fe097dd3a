"""Fully connected encoders and decoders for tabular (ODDS) data (REFERENCE.md)."""
import torch.nn as nn

from .layers import bn1d, lrelu


class _Block(nn.Module):
    """Linear (no bias) -> BatchNorm1d (no affine) -> leaky ReLU."""

    def __init__(self, n_in: int, n_out: int):
        super().__init__()
        self.linear, self.bn = nn.Linear(n_in, n_out, bias=False), bn1d(n_out)

    def forward(self, x):
        return lrelu(self.bn(self.linear(x)))


class MLP(nn.Module):
    def __init__(self, x_dim: int, hidden: tuple[int, ...], rep_dim: int):
        super().__init__()
        self.rep_dim = rep_dim
        dims = [x_dim, *hidden]
        self.hidden = nn.Sequential(*(_Block(a, b) for a, b in zip(dims[:-1], dims[1:])))
        self.code = nn.Linear(dims[-1], rep_dim, bias=False)

    def forward(self, x):
        return self.code(self.hidden(x))


class MLPDecoder(nn.Module):
    """Mirror of MLP: rep_dim -> reversed hidden blocks -> linear -> sigmoid."""

    def __init__(self, x_dim: int, hidden: tuple[int, ...], rep_dim: int):
        super().__init__()
        dims = [rep_dim, *reversed(hidden)]
        self.hidden = nn.Sequential(*(_Block(a, b) for a, b in zip(dims[:-1], dims[1:])))
        self.output = nn.Linear(dims[-1], x_dim, bias=False)

    def forward(self, z):
        return self.output(self.hidden(z)).sigmoid()
