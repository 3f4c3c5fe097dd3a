"""The training loop: learning-rate milestones, the non-finite-loss guard, seeding, hooks
and weight decay, checked on tiny problems whose Adam steps can be worked by hand.

With one parameter w and a constant gradient, Adam's bias-corrected step is lr * g / |g|
(up to its eps of 1e-8): exactly lr per step, whatever the gradient's size.
"""
import numpy as np
import pytest
import torch
import torch.nn as nn

from ocbench.errors import OcbenchError
from ocbench.nets import build_network
from ocbench.training import TrainConfig, batch_order, batches, check_loss, seed_everything, train_network


class Scalar(nn.Module):
    """One trainable number w."""

    def __init__(self, value: float):
        super().__init__()
        self.w = nn.Parameter(torch.tensor([value]))


def slope_loss(network, xb):
    """Loss w: gradient 1 on every step."""
    return network.w.sum()


def one_batch(n=4):
    return [torch.zeros(n, 1)]


def test_learning_rate_drops_tenfold_after_the_milestone_epoch():
    network, trace = Scalar(0.0), []
    config = TrainConfig(lr=1.0, epochs=5, milestones=(2,), batch_size=8, weight_decay=0.0)
    train_network(network, slope_loss, one_batch(), config, seed=0,
                  after_epoch=lambda epoch: trace.append(network.w.item()))
    # one step per epoch: lr 1 in epochs 1-2, 0.1 from epoch 3 on
    assert trace == pytest.approx([-1.0, -2.0, -2.1, -2.2, -2.3], abs=1e-6)


def test_two_milestones_drop_twice():
    network, trace = Scalar(0.0), []
    config = TrainConfig(lr=1.0, epochs=4, milestones=(1, 3), batch_size=8, weight_decay=0.0)
    train_network(network, slope_loss, one_batch(), config, seed=0,
                  after_epoch=lambda epoch: trace.append(network.w.item()))
    assert trace == pytest.approx([-1.0, -1.1, -1.2, -1.21], abs=1e-6)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_a_non_finite_loss_stops_training_with_a_clear_error(bad):
    network = Scalar(0.0)

    def loss(net, xb):
        # w starts at 0 and the first step makes it -1: finite in epoch 1, not from epoch 2 on
        factor = bad if net.w.item() < 0 else 1.0
        return factor * net.w.sum() - 1.0

    config = TrainConfig(lr=1.0, epochs=3, milestones=(), batch_size=8, weight_decay=0.0)
    with pytest.raises(OcbenchError) as err:
        train_network(network, loss, one_batch(), config, seed=0, name="tiny")
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("tiny: loss became")
    assert ("nan" if np.isnan(bad) else "inf") in message
    assert "epoch 2" in message and "lower lr (now 1.0)" in message


@pytest.mark.parametrize("loss, first", [(2.0e6, 1.0), (-3.0e6, 2.0), (5.5e10, 0.3)])
def test_a_loss_a_million_times_the_first_is_divergence(loss, first):
    with pytest.raises(OcbenchError, match=r"^tiny: loss diverged to .* in epoch 4, more than 1e\+06 times"):
        check_loss("tiny", loss, first, 3, lr=1000.0)


@pytest.mark.parametrize("loss, first", [(1.0e6, 1.0), (-1.9e6, 2.0), (1.0e9, None), (7.0, 0.0), (1e-9, 1.0)])
def test_losses_within_a_million_times_the_first_pass(loss, first):
    check_loss("tiny", loss, first, 0, lr=1.0)  # no error: 1e6 x is the limit, inclusive


def test_training_stops_when_the_loss_diverges_within_an_epoch():
    # Scripted batch losses 2, 3, 2.5e6 (> 1e6 x 2): the third step of epoch 2 stops it.
    script = iter([2.0, 3.0, 2.5e6, 1.0])

    def loss(net, xb):
        return net.w.sum() * 0.0 + next(script)

    config = TrainConfig(lr=1.0, epochs=3, milestones=(), batch_size=2, weight_decay=0.0)
    with pytest.raises(OcbenchError, match=r"tiny: loss diverged to 2.5e\+06 in epoch 2, .* first batch's 2; "
                                           r"lower lr \(now 1.0\)"):
        train_network(Scalar(0.0), loss, [torch.zeros(4, 1)], config, seed=0, name="tiny")


def test_weight_decay_is_adams_l2_term():
    # Zero loss gradient: only the decay term wd * w = 0.25 * 2 = 0.5 drives w, and
    # Adam's first step moves it by lr = 0.1 towards 0 (decoupled AdamW would give 1.95).
    def no_gradient(net, xb):
        return net.w.sum() * 0.0

    decayed, kept = Scalar(2.0), Scalar(2.0)
    train_network(decayed, no_gradient, one_batch(),
                  TrainConfig(lr=0.1, epochs=1, milestones=(), batch_size=8, weight_decay=0.25), seed=0)
    train_network(kept, no_gradient, one_batch(),
                  TrainConfig(lr=0.1, epochs=1, milestones=(), batch_size=8, weight_decay=0.0), seed=0)
    assert decayed.w.item() == pytest.approx(1.9, abs=1e-6)
    assert kept.w.item() == 2.0


def test_hooks_run_once_per_step_and_once_per_epoch():
    epochs_seen, steps_seen, sizes = [], [], []

    def loss(net, xb):
        sizes.append(len(xb))
        return net.w.sum(), len(xb)

    # 9 samples at batch 4: batches of 4 and 5 (a last batch of one is folded in)
    config = TrainConfig(lr=0.1, epochs=3, milestones=(), batch_size=4, weight_decay=0.0)
    losses = train_network(Scalar(0.0), loss, [torch.zeros(9, 1)], config, seed=0,
                           after_step=lambda epoch, aux: steps_seen.append((epoch, aux)),
                           after_epoch=epochs_seen.append)
    assert epochs_seen == [0, 1, 2]
    assert [epoch for epoch, _ in steps_seen] == [0, 0, 1, 1, 2, 2]
    assert sorted(sizes) == [4, 4, 4, 5, 5, 5]
    assert len(losses) == 3


def test_batches_fold_a_last_single_sample_and_cover_every_index_once():
    parts = batches(9, 4, torch.Generator().manual_seed(0))
    assert [len(p) for p in parts] == [4, 5]
    assert sorted(torch.cat(parts).tolist()) == list(range(9))
    assert [p.tolist() for p in batches(5, 2)] == [[0, 1], [2, 3, 4]]


def test_batches_with_drop_last_keep_only_full_batches():
    # 10 samples at batch 4: two batches of 4, the last 2 of the order left out (no fold either)
    assert [p.tolist() for p in batches(10, 4, drop_last=True)] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert [len(p) for p in batches(9, 4, drop_last=True)] == [4, 4]
    assert [len(p) for p in batches(8, 4, drop_last=True)] == [4, 4]  # nothing to drop
    assert [len(p) for p in batches(4, 4, drop_last=True)] == [4]
    with pytest.raises(OcbenchError, match="drop_last with batch_size 5 leaves no batch of the 4 training samples"):
        batches(4, 5, drop_last=True)


@pytest.mark.parametrize("drop_last, sizes_per_epoch", [(True, [4, 4]), (False, [4, 4, 2])])
def test_batches_and_samples_seen_per_epoch_with_and_without_drop_last(drop_last, sizes_per_epoch):
    """10 samples at batch 4 for 3 epochs: with drop_last each epoch trains on two batches, 8
    distinct samples (the two its shuffle puts last sit it out); without, on all 10. The
    epoch loss is the mean over the samples seen."""
    n, seed, seen = 10, 3, []

    def record(network, xb):
        seen.append(xb[:, 0].long())
        return network.w.sum() * 0.0 + xb[:, 0].mean()  # the batch's mean index: the epoch loss is their mean

    indices = torch.arange(n, dtype=torch.float32).unsqueeze(1)
    config = TrainConfig(lr=1e-3, epochs=3, milestones=(), batch_size=4, drop_last=drop_last)
    losses = train_network(Scalar(0.0), record, [indices], config, seed=seed)
    per_epoch = len(sizes_per_epoch)
    assert [len(b) for b in seen] == sizes_per_epoch * 3
    order = batch_order(seed)
    for epoch in range(3):
        epoch_batches = seen[epoch * per_epoch:(epoch + 1) * per_epoch]
        samples = torch.cat(epoch_batches)
        assert len(samples) == sum(sizes_per_epoch) and len(set(samples.tolist())) == len(samples)
        permutation = torch.randperm(n, generator=order)  # the epoch's shuffle; drop_last cuts its tail
        assert torch.equal(samples, permutation[:len(samples)])
        assert losses[epoch] == pytest.approx(samples.float().mean().item())


def test_drop_last_is_refused_unless_true_or_false():
    with pytest.raises(OcbenchError, match="drop_last must be true or false, got 1"):
        TrainConfig(drop_last=1)


def test_the_batch_order_is_a_stream_of_its_own_not_the_one_that_drew_the_weights():
    """Each epoch's order comes from ``batch_order(seed)``: the same every time, and not the
    stream ``torch.manual_seed(seed)`` starts, which drew the initial weights."""
    n, seed, seen = 40, 3, []

    def record(network, xb):
        seen.append(xb[:, 0].long())
        return network.w.sum()

    indices = torch.arange(n, dtype=torch.float32).unsqueeze(1)
    config = TrainConfig(lr=1e-3, epochs=2, milestones=(), batch_size=8)
    train_network(Scalar(0.0), record, [indices], config, seed=seed)
    first_epoch, second_epoch = torch.cat(seen[:5]), torch.cat(seen[5:])
    order = batch_order(seed)
    assert torch.equal(first_epoch, torch.randperm(n, generator=order))
    assert torch.equal(second_epoch, torch.randperm(n, generator=order))
    torch.manual_seed(seed)  # the weights' stream, as seed_everything and the references start it
    assert not torch.equal(first_epoch, torch.randperm(n))
    assert not torch.equal(first_epoch, torch.randperm(n, generator=torch.Generator().manual_seed(seed)))
    assert not torch.equal(first_epoch, torch.randperm(n, generator=batch_order(seed + 1)))


def mse_to_zero(network, xb):
    return (network(xb) ** 2).sum(dim=1).mean()


def train_lenet(seed, images):
    seed_everything(seed)
    network = build_network("mnist_lenet")
    config = TrainConfig(lr=1e-3, epochs=2, milestones=(), batch_size=8)
    losses = train_network(network, mse_to_zero, [images], config, seed=seed)
    return network, losses


def test_the_same_seed_gives_identical_weights_and_another_seed_does_not():
    images = torch.rand(24, 1, 28, 28, generator=torch.Generator().manual_seed(5))
    first, first_losses = train_lenet(7, images)
    second, second_losses = train_lenet(7, images)
    other, _ = train_lenet(8, images)
    assert first_losses == second_losses
    for key, value in first.state_dict().items():
        assert torch.equal(value, second.state_dict()[key]), key
    assert not torch.equal(first.conv1.weight, other.conv1.weight)
    assert not first.training  # the loop leaves the network in evaluation mode


def test_the_loop_reduces_a_simple_loss():
    images = torch.rand(24, 1, 28, 28, generator=torch.Generator().manual_seed(5))
    seed_everything(0)
    network = build_network("mnist_lenet")
    losses = train_network(network, mse_to_zero, [images],
                           TrainConfig(lr=1e-2, epochs=5, milestones=(), batch_size=8), seed=0)
    assert losses[-1] < losses[0] / 2


@pytest.mark.parametrize("field, value, words", [
    ("lr", 0.0, "lr must be a number > 0"), ("weight_decay", -1.0, "weight_decay must be a number >= 0"),
    ("epochs", 0, "epochs must be an integer >= 1"), ("batch_size", 2.5, "batch_size must be an integer >= 2")])
def test_bad_training_settings_are_refused(field, value, words):
    with pytest.raises(OcbenchError, match=words):
        TrainConfig(**{field: value})
