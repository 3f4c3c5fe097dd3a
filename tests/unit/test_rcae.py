"""RCAE: the soft-threshold step, sparsity of the noise matrix, pretrained start, detection."""
import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from ocbench.detectors import METHODS
from ocbench.detectors.autoencoder import AutoencoderDetector
from ocbench.detectors.objectives import soft_threshold
from ocbench.detectors.rcae import RCAE
from ocbench.errors import OcbenchError


def low_rank(n, rng):
    """30-D points in (0, 1) on a 3-D manifold: easy for the wbc_mlp autoencoder to learn."""
    mixing = np.random.default_rng(42).normal(size=(3, 30))
    return (1 / (1 + np.exp(-rng.normal(size=(n, 3)) @ mixing / 2))).astype(np.float32)


@pytest.fixture(scope="module")
def corrupted():
    """200 manifold points; in 20 of them 3 entries are flipped (v -> 1 - v)."""
    rng = np.random.default_rng(0)
    clean = low_rank(200, rng)
    x = clean.copy()
    for row in rng.choice(200, 20, replace=False):
        cols = rng.choice(30, 3, replace=False)
        x[row, cols] = 1 - x[row, cols]
    return clean, x


def fit_tabular(x, lam, seed=0):
    return RCAE(net="wbc_mlp", lam=lam, epochs=30, epochs_per_alternation=5, batch_size=50, lr=1e-2,
                seed=seed).fit(x)


def test_soft_threshold_by_hand():
    v = torch.tensor([-3.0, -1.0, -0.5, 0.0, 0.5, 2.0])
    assert torch.equal(soft_threshold(v, 1.0), torch.tensor([-2.0, 0.0, 0.0, 0.0, 0.0, 1.0]))
    assert torch.equal(soft_threshold(v, 0.0), v)
    # the threshold is applied elementwise to a matrix as well
    m = torch.tensor([[0.3, -0.7], [1.5, -0.1]])
    assert torch.allclose(soft_threshold(m, 0.25), torch.tensor([[0.05, -0.45], [1.25, 0.0]]))


def test_noise_is_sparse_and_sits_on_the_corrupted_entries(corrupted):
    clean, x = corrupted
    detector = fit_tabular(x, lam=0.3)
    assert detector.noise_.shape == x.shape
    assert detector.noise_sparsity_ == pytest.approx(np.mean(detector.noise_ == 0))
    assert detector.noise_sparsity_ > 0.95
    # N is the soft-thresholded residual of the final autoencoder
    with torch.no_grad():
        residual = torch.from_numpy(x) - detector.autoencoder_.eval()(torch.from_numpy(x))
    assert np.allclose(detector.noise_, soft_threshold(residual, 0.15).numpy(), atol=1e-6)
    # N's mass sits on the corrupted entries, and N catches most of the strong corruptions
    magnitude = np.abs(detector.noise_)
    assert magnitude[x != clean].sum() >= 0.9 * magnitude.sum()
    nonzero = detector.noise_ != 0
    strong = np.abs(x - clean) > 0.4
    assert (nonzero & strong).sum() >= 0.8 * strong.sum()
    assert detector.n_alternations_ == 6


def test_larger_lambda_gives_sparser_noise(corrupted):
    _, x = corrupted
    sparsity = [fit_tabular(x, lam).noise_sparsity_ for lam in (0.0, 0.1, 0.6)]
    assert sparsity[0] < 0.01  # lam = 0: N is the whole residual
    assert sparsity[0] < sparsity[1] < sparsity[2]


def test_bad_parameters_are_refused_before_training(corrupted):
    _, x = corrupted
    with pytest.raises(OcbenchError, match="lam"):
        RCAE(net="wbc_mlp", lam=-0.1).fit(x)
    with pytest.raises(OcbenchError, match="lam"):
        RCAE(net="wbc_mlp", lam=float("nan")).fit(x)
    with pytest.raises(OcbenchError, match="epochs_per_alternation"):
        RCAE(net="wbc_mlp", epochs_per_alternation=0).fit(x)


# Tiny images: smooth Gaussian blobs are normal, sine stripes are anomalies.
_yy, _xx = np.mgrid[0:28, 0:28]


def blob_images(n, rng):
    centre = rng.uniform(9, 19, size=(n, 2))
    width = rng.uniform(3, 5, size=n)[:, None, None]
    sq = (_yy[None] - centre[:, 0, None, None]) ** 2 + (_xx[None] - centre[:, 1, None, None]) ** 2
    return np.exp(-sq / (2 * width ** 2))[:, None].astype(np.float32)


def stripe_images(n, rng):
    freq = rng.uniform(0.5, 1.2, size=n)[:, None, None]
    phase = rng.uniform(0, 6, size=n)[:, None, None]
    return (0.5 + 0.5 * np.sin(freq * _xx[None] + phase))[:, None].astype(np.float32)


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(0)
    x_train = blob_images(200, rng)
    x_test = np.concatenate([blob_images(50, rng), stripe_images(50, rng)])
    return x_train, x_test, np.r_[np.zeros(50), np.ones(50)]


def fit_images(x, seed=0, **kw):
    params = dict(net="mnist_lenet", lam=0.5, epochs=3, epochs_per_alternation=1, batch_size=50, lr=1e-2, seed=seed)
    return RCAE(**{**params, **kw}).fit(x)


def test_detects_stripes_among_blobs(images):
    x_train, x_test, y_test = images
    detector = fit_images(x_train)
    assert roc_auc_score(y_test, detector.decision_function(x_test)) > 0.9
    assert detector.threshold_ == pytest.approx(np.quantile(detector.decision_function(x_train), 0.9))


def test_same_seed_same_scores(images):
    x_train, x_test, _ = images
    first, again = fit_images(x_train[:64], epochs=1), fit_images(x_train[:64], epochs=1)
    other = fit_images(x_train[:64], epochs=1, seed=1)
    assert np.array_equal(first.decision_function(x_test), again.decision_function(x_test))
    assert np.array_equal(first.noise_, again.noise_)
    assert not np.allclose(first.decision_function(x_test), other.decision_function(x_test))


@pytest.fixture(scope="module")
def pretrained_path(images, tmp_path_factory):
    x_train, _, _ = images
    path = tmp_path_factory.mktemp("ae") / "autoencoder.pt"
    AutoencoderDetector(net="mnist_lenet", epochs=1, batch_size=32, seed=3).fit(x_train[:64]).save(path)
    return path


def test_starts_from_the_pretrained_autoencoder(images, pretrained_path):
    x_train, _, _ = images
    # A learning rate too small to move the weights: they must still be the pretrained ones.
    detector = fit_images(x_train[:64], epochs=1, lr=1e-12, autoencoder=pretrained_path)
    pretrained = AutoencoderDetector.load(pretrained_path).autoencoder_
    for (name, before), after in zip(pretrained.named_parameters(), detector.autoencoder_.parameters()):
        assert torch.allclose(before, after, atol=1e-8), name


def test_pretrained_autoencoder_of_another_net_is_refused(images, pretrained_path):
    x_train, _, _ = images
    with pytest.raises(OcbenchError, match="fmnist_lenet"):
        fit_images(x_train[:8], net="fmnist_lenet", autoencoder=pretrained_path)


def test_registry_entry_builds_an_rcae(pretrained_path):
    spec = METHODS["rcae"]
    assert spec.deep and spec.pretrained and not spec.needs_labels and spec.detector is RCAE
    detector = spec.factory({"lam": 0.2}, net="mnist_lenet", device="cpu", seed=4, autoencoder=pretrained_path)
    assert isinstance(detector, RCAE)
    assert (detector.lam, detector.seed, detector.autoencoder) == (0.2, 4, pretrained_path)
