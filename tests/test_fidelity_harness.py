"""The side-by-side harness (benchmarks/fidelity/harness.py), checked without the reference code.

- ``reference_schedule``: the PyTorch references step their scheduler at the start of each
  epoch, so their rate drops one epoch before the milestone; ocbench, given the milestones
  one epoch earlier, takes the same rate in every epoch.
- ``OcbenchOrder``: the batches a reference's loader yields under ``--same-order`` are
  the ones ocbench's training loop takes, epoch by epoch.
"""
import importlib.util
import sys
import warnings
from pathlib import Path

import pytest
import torch
import torch.nn as nn

from ocbench.training import TrainConfig, train_network

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "fidelity" / "harness.py"


@pytest.fixture(scope="module")
def harness():
    spec = importlib.util.spec_from_file_location("fidelity_harness", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


def reference_rates(lr: float, milestones, epochs: int) -> list[float]:
    """The rate of each epoch as the references run it: ``scheduler.step()`` first, then the epoch."""
    optimizer = torch.optim.Adam([nn.Parameter(torch.zeros(1))], lr=lr)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=list(milestones), gamma=0.1)
    rates = []
    for _ in range(epochs):
        with warnings.catch_warnings():  # torch warns of exactly this order of calls
            warnings.simplefilter("ignore", UserWarning)
            scheduler.step()
        rates.append(optimizer.param_groups[0]["lr"])
    return rates


def ocbench_rates(lr: float, milestones, epochs: int) -> list[float]:
    """The rate of each epoch of ocbench's loop, read off one Adam step per epoch on the loss w:
    a constant gradient makes Adam's step exactly the learning rate."""
    class Scalar(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.zeros(1, dtype=torch.float64))

    network, trace = Scalar(), [0.0]
    config = TrainConfig(lr=lr, epochs=epochs, milestones=tuple(milestones), batch_size=8, weight_decay=0.0)
    train_network(network, lambda net, xb: net.w.sum(), [torch.zeros(4, 1)], config, seed=0,
                  after_epoch=lambda epoch: trace.append(network.w.item()))
    return [before - after for before, after in zip(trace, trace[1:])]


def test_the_reference_drops_its_rate_one_epoch_before_the_milestone_and_ocbench_after_it():
    # milestone 3 of 5 epochs at lr 1: the reference runs epochs 1-2 at 1, ocbench epochs 1-3
    assert reference_rates(1.0, [3], 5) == pytest.approx([1, 1, 0.1, 0.1, 0.1])
    assert ocbench_rates(1.0, [3], 5) == pytest.approx([1, 1, 1, 0.1, 0.1], rel=1e-6)


def test_reference_schedule_gives_ocbench_the_rate_the_reference_runs_in_every_epoch(harness):
    recipe = {"autoencoder": {"lr": 1.0, "epochs": 6, "milestones": [3, 5]},
              "network": {"lr": 1.0, "epochs": 5, "milestones": [4]}}
    shifted = harness.reference_schedule(recipe)
    assert shifted["autoencoder"]["milestones"] == [2, 4] and shifted["network"]["milestones"] == [3]
    assert recipe["network"]["milestones"] == [4]  # the recipe given is left as it was
    for block in ("autoencoder", "network"):
        stated = recipe[block]
        assert ocbench_rates(1.0, shifted[block]["milestones"], stated["epochs"]) == \
            pytest.approx(reference_rates(1.0, stated["milestones"], stated["epochs"]), rel=1e-6)


def test_reference_schedule_refuses_a_milestone_of_one_in_one_line(harness):
    recipe = {"autoencoder": {"epochs": 3, "milestones": [2]}, "network": {"epochs": 3, "milestones": [1]}}
    with pytest.raises(SystemExit, match="network milestone 1"):
        harness.reference_schedule(recipe)


@pytest.mark.parametrize("centre_pass", [False, True])
def test_the_same_order_sampler_yields_the_batches_ocbench_trains_on(harness, centre_pass):
    n, batch_size, seed, epochs, seen = 45, 8, 5, 3, []

    def record(network, xb):
        seen.append(xb[:, 0].long().tolist())
        return network.w.sum()

    class Scalar(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.zeros(1))

    indices = torch.arange(n, dtype=torch.float32).unsqueeze(1)
    train_network(Scalar(), record, [indices], TrainConfig(lr=1e-3, epochs=epochs, milestones=(), batch_size=batch_size),
                  seed=seed)
    sampler = harness.OcbenchOrder(n, batch_size, seed, centre_pass)
    if centre_pass:  # the centre's pass first, in order
        assert [i for batch in sampler for i in batch] == list(range(n))
    yielded = [batch for _ in range(epochs) for batch in sampler]
    assert yielded == seen
    assert len(sampler) == len(seen) // epochs == 6
