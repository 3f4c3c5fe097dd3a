"""K networks trained as one stack equal K separate fits (``training.train_stacked``, ``detectors.deep.fit_stacked``).

The stack runs one model's loss under ``torch.func.vmap`` (grouped kernels) where a
separate fit runs plain ones: the same arithmetic in another order, so the results
agree to float rounding, not bit for bit. Adam divides each step by the root of the
gradient's second moment, so for a weight whose gradients are tiny a rounding
difference becomes a visible relative difference of its step: the weights are
compared with a looser tolerance than the losses and scores.
"""
import numpy as np
import pytest
import torch

from ocbench.detectors.autoencoder import AutoencoderDetector
from ocbench.detectors.deep import fit_stacked
from ocbench.detectors.deep_sad import DeepSAD
from ocbench.detectors.deep_svdd import DeepSVDD
from ocbench.detectors.supervised import SupervisedClassifier
from ocbench.errors import OcbenchError

SEEDS = (1, 2, 3)
WEIGHT_RTOL, WEIGHT_ATOL = 1e-2, 1e-4
N = 150  # not a multiple of the batch size: the last, shorter batch is part of the check


def datasets(shape=(1, 28, 28), n=N):
    # each model its own training set, as the normal classes of a grid
    return [np.random.default_rng(10 + k).random((n, *shape), dtype=np.float32) * (k + 1) / 3 for k in range(3)]


def semi_labels(n=N):
    labels = []
    for k in range(3):
        semi = np.zeros(n, dtype=int)
        semi[k:k + 5] = -1  # known anomalies at different rows per model
        semi[20:23] = 1
        labels.append(semi)
    return labels


def assert_same_fit(stacked, alone, xs):
    for s, a, x in zip(stacked, alone, xs):
        np.testing.assert_allclose(s.train_losses_, a.train_losses_, rtol=2e-4)
        np.testing.assert_allclose(s.decision_function(x), a.decision_function(x), rtol=2e-3, atol=1e-5)
        assert s.threshold_ == pytest.approx(a.threshold_, rel=2e-3, abs=1e-5)
        for (name, ws), (_, wa) in zip(s.network_.state_dict().items(), a.network_.state_dict().items()):
            torch.testing.assert_close(ws.float(), wa.float(), rtol=WEIGHT_RTOL, atol=WEIGHT_ATOL, msg=lambda m: name + m)


@pytest.fixture(scope="module")
def autoencoders(tmp_path_factory):
    """Each model's own pretrained autoencoder (its split's), trained apart and saved."""
    paths = []
    for seed, x in zip(SEEDS, datasets()):
        path = tmp_path_factory.mktemp("ae") / f"ae{seed}.pt"
        AutoencoderDetector(net="mnist_lenet", epochs=1, batch_size=64, seed=seed).fit(x).save(path)
        paths.append(path)
    return paths


def test_stacked_autoencoders_equal_separate_fits():
    xs = datasets()
    make = lambda seed: AutoencoderDetector(net="mnist_lenet", epochs=3, milestones=(2,), batch_size=64,  # noqa: E731
                                            loss="sum", weight_decay=1e-3, seed=seed)
    stacked = fit_stacked([make(s) for s in SEEDS], xs)
    alone = [make(s).fit(x) for s, x in zip(SEEDS, xs)]
    for s, a, x in zip(stacked, alone, xs):
        np.testing.assert_allclose(s.train_losses_, a.train_losses_, rtol=2e-4)
        np.testing.assert_allclose(s.decision_function(x), a.decision_function(x), rtol=2e-3)
        for (name, ws), (_, wa) in zip(s.autoencoder_.state_dict().items(), a.autoencoder_.state_dict().items()):
            torch.testing.assert_close(ws.float(), wa.float(), rtol=WEIGHT_RTOL, atol=WEIGHT_ATOL, msg=lambda m: name + m)


@pytest.mark.parametrize("objective", ["one-class", "soft-boundary"])
def test_stacked_deep_svdd_equals_separate_fits(objective, autoencoders):
    xs = datasets()
    make = lambda seed, ae: DeepSVDD(net="mnist_lenet", objective=objective, nu=0.2, warm_up_epochs=1,  # noqa: E731
                                     epochs=4, milestones=(3,), batch_size=64, seed=seed, autoencoder=ae)
    stacked = fit_stacked([make(s, ae) for s, ae in zip(SEEDS, autoencoders)], xs)
    alone = [make(s, ae).fit(x) for s, ae, x in zip(SEEDS, autoencoders, xs)]
    assert_same_fit(stacked, alone, xs)
    for s, a in zip(stacked, alone):
        torch.testing.assert_close(s.c_, a.c_)  # the centre comes before training: the same computation
        assert s.R_ == pytest.approx(a.R_, rel=2e-3)
    if objective == "soft-boundary":
        assert len({round(s.R_, 6) for s in stacked}) == 3  # each model its own radius
        assert all(s.R_ > 0 for s in stacked)


def test_stacked_deep_sad_equals_separate_fits():
    xs, semis = datasets(), semi_labels()
    make = lambda seed: DeepSAD(net="mnist_lenet", eta=2.0, epochs=3, milestones=(2,), batch_size=64,  # noqa: E731
                                seed=seed)
    stacked = fit_stacked([make(s) for s in SEEDS], xs, semis)
    alone = [make(s).fit(x, y) for s, x, y in zip(SEEDS, xs, semis)]
    assert_same_fit(stacked, alone, xs)
    assert [s.n_known_anomalies_ for s in stacked] == [5, 5, 5]


def test_stacked_supervised_classifiers_with_drop_last_equal_separate_fits():
    # N = 150 at batch 64: two batches an epoch, the 22 samples each model's shuffle puts last left out
    xs, semis = datasets(), semi_labels()
    make = lambda seed: SupervisedClassifier(net="mnist_lenet", epochs=3, milestones=(2,), batch_size=64,  # noqa: E731
                                             drop_last=True, seed=seed)
    stacked = fit_stacked([make(s) for s in SEEDS], xs, semis)
    alone = [make(s).fit(x, y) for s, x, y in zip(SEEDS, xs, semis)]
    assert_same_fit(stacked, alone, xs)
    for s, a in zip(stacked, alone):
        heads = zip(s.classifier_.head.state_dict().items(), a.classifier_.head.state_dict().items())
        for (name, ws), (_, wa) in heads:
            torch.testing.assert_close(ws, wa, rtol=WEIGHT_RTOL, atol=WEIGHT_ATOL, msg=lambda m: name + m)


def test_stacked_models_stay_apart():
    """Model k's result does not depend on what the others train on."""
    xs = datasets()
    make = lambda seed: DeepSVDD(net="mnist_lenet", epochs=2, batch_size=64, seed=seed)  # noqa: E731
    first = fit_stacked([make(s) for s in SEEDS], xs)
    other = fit_stacked([make(s) for s in SEEDS], [xs[0], xs[2] * 0.5, xs[1]])
    np.testing.assert_array_equal(first[0].decision_function(xs[0]), other[0].decision_function(xs[0]))


def test_training_sets_of_different_sizes_are_refused():
    xs = datasets()
    with pytest.raises(OcbenchError, match=r"one size; got sizes \[150, 149, 150\]"):
        fit_stacked([DeepSVDD(epochs=1, seed=s) for s in SEEDS], [xs[0], xs[1][:149], xs[2]])


def test_differing_hyper_parameters_are_refused():
    xs = datasets()
    with pytest.raises(OcbenchError, match="share their hyper-parameters; lr differ"):
        fit_stacked([DeepSVDD(epochs=1, seed=1), DeepSVDD(epochs=1, lr=1e-3, seed=2)], xs[:2])
    with pytest.raises(OcbenchError, match="one class"):
        fit_stacked([DeepSVDD(epochs=1, seed=1), DeepSAD(epochs=1, seed=2)], xs[:2])


def test_ocnn_is_not_stacked():
    # the paper's formulation trains a head on frozen codes, outside the hooks a stack maps
    from ocbench.detectors.ocnn import OCNN

    with pytest.raises(OcbenchError, match="OCNN is not stackable"):
        fit_stacked([OCNN(epochs=1, seed=s) for s in SEEDS[:2]], datasets()[:2])
