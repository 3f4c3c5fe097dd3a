"""The one training loop every deep detector uses.

A detector supplies a network and a batch loss; this module owns the optimiser, the
learning-rate milestones, batching of in-memory tensors, seeding, the device, the
per-epoch log line and the guards against a non-finite or diverging loss.
"""
from __future__ import annotations

import logging
import math
import os
import random
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn as nn

from .errors import OcbenchError, check_positive_int

log = logging.getLogger("ocbench.training")

DEVICES = ("cpu", "cuda", "auto")
#: a batch loss this many times the first batch's (in absolute value) means training diverged
DIVERGENCE_FACTOR = 1e6


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


#: cuBLAS's deterministic workspace setting (PyTorch's reproducibility notes); read when the
#: first cuBLAS handle is made, so it is set before any CUDA work of the process
CUBLAS_WORKSPACE_CONFIG = ":4096:8"
_deterministic_mode_set = False


def set_deterministic_mode() -> None:
    """Ask for deterministic kernels, once per process, before any CUDA work and any timing.

    ``torch.use_deterministic_algorithms`` also imports ``torch._inductor`` (2.6-3.3 s)
    only to set the compiler's own flag; nothing here compiles, so the same global
    switch is set directly, as ``torch.set_deterministic_debug_mode`` does, and the
    compiler's flag only when the compiler is already loaded. ``warn_only``: a few CUDA
    kernels have no deterministic version; they warn instead of failing.
    ``CUBLAS_WORKSPACE_CONFIG`` keeps a value the environment already gives.
    """
    global _deterministic_mode_set
    if _deterministic_mode_set:
        return
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE_CONFIG)
    torch._C._set_deterministic_algorithms(True, warn_only=True)
    inductor_config = sys.modules.get("torch._inductor.config")
    if inductor_config is not None:
        inductor_config.deterministic = True
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True
    _deterministic_mode_set = True


def set_up_training_process() -> None:
    """What a process pays once before its first training clock starts.

    Deterministic mode, and ``torch._dynamo``, which ``torch.optim`` imports on its first
    parameter group (about 1.2 s) even though nothing here compiles: imported here,
    neither is counted as training time.
    """
    set_deterministic_mode()
    import torch._dynamo  # noqa: F401


def deterministic_mode(device) -> dict:
    """Whether this process trains deterministically on ``device``, and the settings that say so.

    ``deterministic`` is true when deterministic algorithms are on, cuDNN does not
    benchmark, and, on CUDA, cuBLAS has a deterministic workspace. ``warn_only`` is true
    where an operation without a deterministic kernel would only warn.
    """
    is_cuda = torch.device(device).type == "cuda"
    algorithms = torch.are_deterministic_algorithms_enabled()
    cublas = os.environ.get("CUBLAS_WORKSPACE_CONFIG")
    deterministic = algorithms and not torch.backends.cudnn.benchmark and (
        not is_cuda or cublas in (":4096:8", ":16:8"))
    return {"deterministic": bool(deterministic), "warn_only": torch.is_deterministic_algorithms_warn_only_enabled(),
            "cublas_workspace_config": cublas if is_cuda else None}


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA) for one fit; deterministic mode is set once.

    Call ``set_deterministic_mode`` at job start so that its cost stays out of the
    training clock; here it is only a guard for library use (a no-op once set).
    """
    set_deterministic_mode()
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)


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


def check_loss(name: str, loss: float, first: float | None, epoch: int, lr: float,
               factor: float = DIVERGENCE_FACTOR) -> None:
    """Raise ``OcbenchError`` when a batch loss is not finite or has diverged.

    Diverged: ``|loss| > factor * |first|``, where ``first`` is the loss of the first
    batch (None for the first batch itself). A large finite loss would otherwise train
    on to a network whose scores still look like numbers (at lr 1e3, Deep SVDD's loss
    reached 5.5e10 and its run was recorded as ok). A first loss of 0 gives no scale,
    so only finiteness is checked then.
    """
    if not math.isfinite(loss):
        raise OcbenchError(f"{name}: loss became {loss} in epoch {epoch + 1}; "
                           f"lower lr (now {lr}) or check the input scaling")
    if first is not None and first != 0 and abs(loss) > factor * abs(first):
        raise OcbenchError(f"{name}: loss diverged to {loss:.3g} in epoch {epoch + 1}, more than {factor:.0e} "
                           f"times the first batch's {first:.3g}; lower lr (now {lr})")


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
    first_loss = None
    network.train()
    for epoch in range(config.epochs):
        start, total, count = time.perf_counter(), 0.0, 0
        for idx in batches(n, config.batch_size, shuffle):
            idx = idx.to(tensors[0].device)
            optimizer.zero_grad(set_to_none=True)
            out = batch_loss(network, *(t[idx] for t in tensors))
            loss, aux = out if isinstance(out, tuple) else (out, None)
            value = loss.item()  # one device sync per step, which the epoch's total needs anyway
            check_loss(name, value, first_loss, epoch, config.lr)
            first_loss = value if first_loss is None else first_loss
            loss.backward()
            optimizer.step()
            if after_step is not None:
                after_step(epoch, aux)
            total += value * len(idx)
            count += len(idx)
        scheduler.step()
        if after_epoch is not None:
            after_epoch(epoch)
        epoch_losses.append(total / max(count, 1))
        log.info("%s epoch %d/%d loss %.6g lr %.3g time %.2fs", name, epoch + 1, config.epochs,
                 epoch_losses[-1], optimizer.param_groups[0]["lr"], time.perf_counter() - start)
    network.eval()
    return epoch_losses
