"""The one training loop every deep detector uses.

A detector supplies a network and a batch loss; this module owns the optimiser, the
learning-rate milestones, batching of in-memory tensors, seeding, the device, the
per-epoch log line and the guards against a non-finite or diverging loss.
"""
from __future__ import annotations

import copy
import logging
import math
import os
import random
import sys
import time
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn as nn

from .errors import OcbenchError
from .hyperparameters import TRAINING

log = logging.getLogger("ocbench.training")

DEVICES = ("cpu", "cuda", "auto")
#: a batch loss this many times the first batch's (in absolute value) means training diverged
DIVERGENCE_FACTOR = 1e6


@dataclass(frozen=True)
class TrainConfig:
    """The optimiser settings of one training: defaults and bounds are their declarations'
    (``hyperparameters.TRAINING``); a value outside them raises ``OcbenchError``."""

    lr: float = TRAINING["lr"].default
    epochs: int = TRAINING["epochs"].default
    milestones: tuple[int, ...] = TRAINING["milestones"].default
    batch_size: int = TRAINING["batch_size"].default
    weight_decay: float = TRAINING["weight_decay"].default
    amsgrad: bool = TRAINING["amsgrad"].default
    #: leave out each epoch's last partial batch, as the Deep SAD reference's training loaders do
    drop_last: bool = TRAINING["drop_last"].default

    def __post_init__(self):
        for name, param in TRAINING.items():
            param.check(name, getattr(self, name))
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


#: streams of their own derived from a seed, apart from the one ``torch.manual_seed(seed)``
#: starts (which draws the initial weights): see ``seed_stream``
BATCH_ORDER_STREAM = 1
ATTACK_START_STREAM = 2


def seed_stream(seed: int, stream: int) -> torch.Generator:
    """A CPU generator (the same draws on every device) of a stream of its own, derived from ``seed``.

    Seeded with the seed itself, a generator would restart the very stream that drew the
    initial weights (``torch.manual_seed(seed)`` in ``seed_everything``, and in the
    reference implementations whose draws ``init`` repeats): its draws would be functions
    of the numbers that drew the first layers. NumPy's ``SeedSequence`` of (seed, stream)
    gives each use its own independent stream instead.
    """
    state = np.random.SeedSequence([int(seed), int(stream)]).generate_state(1)
    return torch.Generator().manual_seed(int(state[0]))


def batch_order(seed: int) -> torch.Generator:
    """The generator that shuffles a model's batches: ``seed_stream(seed, BATCH_ORDER_STREAM)``.

    The references shuffle with a stream independent of their weights; so does this one.
    ``docs/fidelity.md`` measures what shuffling from the weights' stream did to Deep SAD.
    """
    return seed_stream(seed, BATCH_ORDER_STREAM)


def batches(n: int, batch_size: int, generator: torch.Generator | None = None, drop_last: bool = False):
    """Index tensors of the batches of one epoch; shuffled when a generator is given.

    ``drop_last``: only the n // batch_size full batches, as a ``DataLoader`` with
    ``drop_last=True`` gives them (the Deep SAD reference's training loaders); the n mod
    batch_size samples that the shuffle puts last sit the epoch out. Without it, a last
    batch of a single sample is folded into the one before it: batch norm in training
    mode cannot normalise one sample.
    """
    if drop_last and batch_size > n:
        raise OcbenchError(f"drop_last with batch_size {batch_size} leaves no batch of the {n} training samples; "
                           f"allowed: a batch_size of at most {n}, or drop_last false")
    order = torch.randperm(n, generator=generator) if generator is not None else torch.arange(n)
    if drop_last:
        return [order[s:s + batch_size] for s in range(0, n - batch_size + 1, batch_size)]
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


def _split_loss(out):
    return out if isinstance(out, tuple) else (out, None)


def _optimise(params: list, step, n: int, config: TrainConfig, seeds: Sequence[int], names: Sequence[str],
              device: torch.device, after_step, after_epoch) -> list[list[float]]:
    """The loop itself, for one model or K stacked ones: returns each model's epoch losses.

    ``step(indices)`` gets one index tensor per model (each model's own shuffled batch)
    and returns ``(loss, values, aux)``: the tensor to differentiate, each model's batch
    loss as a float and what ``after_step`` receives. One Adam over every parameter
    tensor: Adam works element by element, so K stacked models take exactly the steps
    K optimisers would.
    """
    optimizer = torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay, amsgrad=config.amsgrad)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=list(config.milestones), gamma=0.1)
    shuffles = [batch_order(seed) for seed in seeds]
    epoch_losses: list[list[float]] = [[] for _ in seeds]
    first_loss: list[float | None] = [None] * len(seeds)
    for epoch in range(config.epochs):
        start, count = time.perf_counter(), 0
        totals = [0.0] * len(seeds)
        # every model has n samples and one batch size, so their epochs have the same batch sizes
        for indices in zip(*(batches(n, config.batch_size, shuffle, config.drop_last) for shuffle in shuffles)):
            optimizer.zero_grad(set_to_none=True)
            loss, values, aux = step([idx.to(device) for idx in indices])
            for k, value in enumerate(values):
                check_loss(names[k], value, first_loss[k], epoch, config.lr)
                first_loss[k] = value if first_loss[k] is None else first_loss[k]
                totals[k] += value * len(indices[k])
            loss.backward()
            optimizer.step()
            if after_step is not None:
                after_step(epoch, aux)
            count += len(indices[0])
        scheduler.step()
        if after_epoch is not None:
            after_epoch(epoch)
        for k, total in enumerate(totals):
            epoch_losses[k].append(total / max(count, 1))
        log.info("%s epoch %d/%d loss %s lr %.3g time %.2fs", names[0] if len(names) == 1 else f"{len(names)} x {names[0]}",
                 epoch + 1, config.epochs, " ".join(f"{losses[-1]:.6g}" for losses in epoch_losses),
                 optimizer.param_groups[0]["lr"], time.perf_counter() - start)
    return epoch_losses


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
    loss or ``(loss, aux)``; ``batches`` cuts each epoch into those rows (with
    ``config.drop_last``, full batches only). ``after_step(epoch, aux)`` runs after each
    optimiser step (the soft-boundary radius update needs it), ``after_epoch(epoch)``
    after each epoch. The learning rate drops by 10 after each milestone epoch; the scheduler
    steps at the end of the epoch (the references step at its start, which makes each
    drop take effect one epoch early).
    """
    params = [p for p in network.parameters() if p.requires_grad] + list(extra_parameters)

    def step(indices):
        loss, aux = _split_loss(batch_loss(network, *(t[indices[0]] for t in tensors)))
        return loss, [loss.item()], aux  # one device sync per step, which the epoch's total needs anyway

    network.train()
    losses = _optimise(params, step, len(tensors[0]), config, [seed], [name], tensors[0].device, after_step,
                       after_epoch)
    network.eval()
    return losses[0]


def check_stackable(networks: Sequence[nn.Module], tensors: Sequence[torch.Tensor], seeds: Sequence[int]) -> None:
    """Refuse K models that cannot train as one stack, with one line saying why."""
    if len(networks) != len(seeds) or not networks:
        raise OcbenchError(f"stacked training needs one seed per network, got {len(networks)} networks and "
                           f"{len(seeds)} seeds")
    kinds = {type(net).__name__ for net in networks}
    if len(kinds) > 1:
        raise OcbenchError(f"stacked training needs networks of one architecture, got {', '.join(sorted(kinds))}")
    for t in tensors:
        if t.shape[0] != len(networks):
            raise OcbenchError(f"stacked training of {len(networks)} networks got a tensor for {t.shape[0]}")


def train_stacked(
    networks: Sequence[nn.Module],
    batch_loss: BatchLoss,
    tensors: Sequence[torch.Tensor],
    config: TrainConfig,
    *,
    seeds: Sequence[int],
    names: Sequence[str],
    state: Sequence[torch.Tensor] = (),
    after_step: Callable[[int, object], None] | None = None,
) -> list[list[float]]:
    """Train K networks of one architecture at once, each as ``train_network`` trains it alone.

    The K networks' parameters and buffers are stacked (``torch.func.stack_module_state``)
    and one model's loss is mapped over the stack with ``torch.func.vmap``: a GPU then
    runs K small LeNets as grouped kernels in one process instead of K processes
    time-sharing it. Model k sees only its own data and state: ``tensors`` are
    (K, n, ...) (every model's training set has the same n), ``state`` holds per-model
    tensors (K, ...) such as centres and radii, shuffled by its own seed.
    ``batch_loss(forward, *batch, *state)`` is one model's loss (or ``(loss, aux)``),
    with ``forward`` that model's network; ``after_step(epoch, aux)`` gets the stacked
    aux (K, ...). The trained weights and batch-norm statistics are written back into
    ``networks``; returns each model's epoch losses.
    """
    from torch.func import functional_call, stack_module_state, vmap  # here: only stacks need torch.func

    check_stackable(networks, tensors, seeds)
    params, buffers = stack_module_state(list(networks))
    template = copy.deepcopy(networks[0]).to("meta")  # the architecture only; the weights come from the stack
    template.train()
    k_models = len(networks)

    def one_model(p, b, *inputs):
        batch, model_state = inputs[:len(tensors)], inputs[len(tensors):]
        loss, aux = _split_loss(batch_loss(lambda x: functional_call(template, (p, b), (x,)), *batch, *model_state))
        return loss, (torch.zeros((), device=loss.device) if aux is None else aux)

    stacked_loss = vmap(one_model)
    rows = torch.arange(k_models, device=tensors[0].device)[:, None]

    def step(indices):
        idx = torch.stack(indices)  # (K, batch): model k's rows of its own data
        losses, aux = stacked_loss(params, buffers, *(t[rows, idx] for t in tensors), *state)
        return losses.sum(), losses.tolist(), aux  # the sum: model k's gradient is its own loss's

    losses = _optimise(list(params.values()), step, tensors[0].shape[1], config, seeds, names, tensors[0].device,
                       after_step, None)
    with torch.no_grad():
        for k, network in enumerate(networks):
            for key, value in network.named_parameters():
                value.copy_(params[key][k])
            for key, value in network.named_buffers():
                value.copy_(buffers[key][k])
            network.eval()
    return losses
