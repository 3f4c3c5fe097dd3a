"""The one training loop every deep detector uses.

A detector supplies a network and a batch loss; this module owns the optimiser, the
learning-rate milestones, batching of in-memory tensors, seeding, the device, the
per-epoch log line and the guard against a non-finite loss.
"""
from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn as nn

from .errors import OcbenchError, check_positive_int

log = logging.getLogger("ocbench.training")

DEVICES = ("cpu", "cuda", "auto")


@dataclass(frozen=True)
class TrainConfig:
    lr: float = 1e-4
    epochs: int = 150
    milestones: tuple[int, ...] = field(default=(50,))
    batch_size: int = 200
    weight_decay: float = 0.5e-6
    amsgrad: bool = False

    def __post_init__(self):
        check_positive_int("epochs", self.epochs)
        check_positive_int("batch_size", self.batch_size)
        if not self.lr > 0:
            raise OcbenchError(f"lr must be > 0, got {self.lr!r}")
        if self.weight_decay < 0:
            raise OcbenchError(f"weight_decay must be >= 0, got {self.weight_decay!r}")
        object.__setattr__(self, "milestones", tuple(int(m) for m in self.milestones))


def resolve_device(device: str) -> torch.device:
    """'cpu', 'cuda' (must exist) or 'auto' (CUDA when present, else CPU)."""
    if device not in DEVICES:
        raise OcbenchError(f"unknown device {device!r}; allowed: {', '.join(DEVICES)}")
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise OcbenchError("device 'cuda' was asked for but torch sees no CUDA device; use 'cpu' or 'auto'")
    return torch.device(device)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA) and ask for deterministic kernels."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)
    # warn_only: a few CUDA kernels have no deterministic version; they warn instead of failing.
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False


def as_tensor(x, device: torch.device) -> torch.Tensor:
    """Move data to the device once, as float32; training then only slices it."""
    t = x if isinstance(x, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(x))
    return t.to(device=device, dtype=torch.float32)


def batches(n: int, batch_size: int, generator: torch.Generator | None = None):
    """Index tensors of the batches of one epoch; shuffled when a generator is given.

    A last batch of a single sample is folded into the one before it: batch norm in
    training mode cannot normalise one sample.
    """
    order = torch.randperm(n, generator=generator) if generator is not None else torch.arange(n)
    starts = list(range(0, n, batch_size))
    if len(starts) > 1 and n - starts[-1] == 1:
        starts.pop()
    ends = starts[1:] + [n]
    return [order[s:e] for s, e in zip(starts, ends)]


@torch.no_grad()
def map_batches(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
    """Apply ``fn`` to ``x`` in batches without gradients and concatenate the results."""
    return torch.cat([fn(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])


BatchLoss = Callable[..., "torch.Tensor | tuple[torch.Tensor, object]"]


def train_network(
    network: nn.Module,
    batch_loss: BatchLoss,
    tensors: Sequence[torch.Tensor],
    config: TrainConfig,
    *,
    seed: int,
    name: str = "network",
    extra_parameters: Sequence[torch.Tensor] = (),
    after_step: Callable[[int, object], None] | None = None,
    after_epoch: Callable[[int], None] | None = None,
) -> list[float]:
    """Train ``network`` by minimising ``batch_loss(network, *batch)``; return the epoch losses.

    ``tensors`` are aligned tensors already on the device (inputs, semi-labels, ...);
    each step hands the same rows of every one to ``batch_loss``, which returns the
    loss or ``(loss, aux)``; ``after_step(epoch, aux)`` runs after each optimiser
    step (the soft-boundary radius update needs it), ``after_epoch(epoch)`` after each
    epoch. The learning rate drops by 10 after each milestone epoch; the scheduler
    steps at the end of the epoch (the references step at its start, which makes each
    drop take effect one epoch early).
    """
    params = [p for p in network.parameters() if p.requires_grad] + list(extra_parameters)
    optimizer = torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay,
                                 amsgrad=config.amsgrad)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=list(config.milestones), gamma=0.1)
    shuffle = torch.Generator().manual_seed(seed)  # on the CPU: the same order on every device
    n = len(tensors[0])
    epoch_losses = []
    network.train()
    for epoch in range(config.epochs):
        start, total, count = time.perf_counter(), 0.0, 0
        for idx in batches(n, config.batch_size, shuffle):
            idx = idx.to(tensors[0].device)
            optimizer.zero_grad(set_to_none=True)
            out = batch_loss(network, *(t[idx] for t in tensors))
            loss, aux = out if isinstance(out, tuple) else (out, None)
            if not torch.isfinite(loss):
                raise OcbenchError(
                    f"{name}: loss became {loss.item()} in epoch {epoch + 1}; "
                    f"lower lr (now {config.lr}) or check the input scaling")
            loss.backward()
            optimizer.step()
            if after_step is not None:
                after_step(epoch, aux)
            total += loss.item() * len(idx)
            count += len(idx)
        scheduler.step()
        if after_epoch is not None:
            after_epoch(epoch)
        epoch_losses.append(total / max(count, 1))
        log.info("%s epoch %d/%d loss %.6g lr %.3g time %.2fs", name, epoch + 1, config.epochs,
                 epoch_losses[-1], optimizer.param_groups[0]["lr"], time.perf_counter() - start)
    network.eval()
    return epoch_losses
