"""SS-DGM (M2): the ELBO terms on hand-worked numbers, sizes, labels, detection, determinism."""
import math

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from ocbench.detectors import METHODS
from ocbench.detectors.objectives import (bernoulli_log_likelihood, classification_loss,
                                          gaussian_kl_to_standard_normal, labelled_elbo, unlabelled_elbo)
from ocbench.detectors.ss_dgm import SSDGM, default_alpha, dgm_sizes
from ocbench.errors import OcbenchError


def test_gaussian_kl_matches_its_closed_form_by_hand():
    # KL = 0.5 * sum(exp(lv) + mu^2 - 1 - lv): (1 + 1 - 1 - 0) + (2 + 0 - 1 - log 2) = 2 - log 2, halved
    mu = torch.tensor([[1.0, 0.0]])
    log_var = torch.tensor([[0.0, math.log(2.0)]])
    assert gaussian_kl_to_standard_normal(mu, log_var).item() == pytest.approx(1 - 0.5 * math.log(2), rel=1e-6)
    # q = p gives 0
    assert gaussian_kl_to_standard_normal(torch.zeros(3, 4), torch.zeros(3, 4)).tolist() == [0.0, 0.0, 0.0]


def test_gaussian_kl_is_the_mean_of_the_references_one_sample_estimate():
    torch.manual_seed(0)
    mu, log_var = torch.tensor([0.5, -1.0, 0.2]), torch.tensor([0.3, 1.0, 0.0])
    z = mu + torch.exp(0.5 * log_var) * torch.randn(200_000, 3)
    q = torch.distributions.Normal(mu, torch.exp(0.5 * log_var)).log_prob(z).sum(-1)
    p = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1)
    exact = gaussian_kl_to_standard_normal(mu, log_var).item()
    assert (q - p).mean().item() == pytest.approx(exact, abs=0.02)


def test_bernoulli_log_likelihood_by_hand():
    x = torch.tensor([[1.0, 0.0]])
    x_rec = torch.tensor([[0.5, 0.25]])
    assert bernoulli_log_likelihood(x_rec, x).item() == pytest.approx(math.log(0.5) + math.log(0.75), rel=1e-6)


def test_labelled_elbo_by_hand():
    # log p(x|y,z) + log p(y) - KL with p(y) = 1/2
    value = labelled_elbo(torch.tensor([-2.0]), torch.tensor([0.5]), n_classes=2)
    assert value.item() == pytest.approx(-2.0 - math.log(2) - 0.5, rel=1e-6)


def test_unlabelled_elbo_by_hand():
    # 0.75 * (-1) + 0.25 * (-3) + H(0.75, 0.25)
    elbos, probs = torch.tensor([[-1.0, -3.0]]), torch.tensor([[0.75, 0.25]])
    entropy = -(0.75 * math.log(0.75) + 0.25 * math.log(0.25))
    assert unlabelled_elbo(elbos, probs).item() == pytest.approx(-1.5 + entropy, rel=1e-6)


def test_unlabelled_elbo_is_tight_at_the_posterior():
    # max over q(y|x) of sum q L + H(q) is log sum exp L, reached at q = softmax(L)
    elbos = torch.tensor([[-1.0, -3.0], [-10.0, -2.5]])
    best = unlabelled_elbo(elbos, torch.softmax(elbos, dim=1))
    assert torch.allclose(best, torch.logsumexp(elbos, dim=1), atol=1e-6)
    assert (unlabelled_elbo(elbos, torch.full((2, 2), 0.5)) < best).all()


def test_classification_loss_by_hand():
    probs = torch.tensor([[0.8, 0.2], [0.4, 0.6]])
    onehot = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    assert classification_loss(probs, onehot).item() == pytest.approx(-(math.log(0.8) + math.log(0.6)) / 2, rel=1e-6)


def test_sizes_follow_the_reference():
    assert dgm_sizes("mnist_lenet", 784) == (32, (128, 64))
    assert dgm_sizes("fmnist_lenet", 784) == (64, (256, 128))
    assert dgm_sizes("cifar10_lenet", 3072) == (128, (512, 256))
    assert dgm_sizes("cardio_mlp", 21) == (8, (32, 16))
    assert dgm_sizes("thyroid_mlp", 6) == (4, (32, 16))
    # without a known net: by input dimension, CIFAR-10 sizes for 3072, MNIST sizes otherwise
    assert dgm_sizes(None, 3072) == (128, (512, 256))
    assert dgm_sizes(None, 784) == (32, (128, 64))
    assert dgm_sizes(None, 30) == (32, (128, 64))


def test_default_alpha_is_the_references():
    # 0.1 * (1 - r_n - r_o) / (r_n + r_o) with r_n = 0.05, r_o = 0.05 -> 0.9
    assert default_alpha(n_labelled=10, n_unlabelled=90) == pytest.approx(0.9)
    assert default_alpha(n_labelled=10, n_unlabelled=0) == pytest.approx(0.1)


@pytest.fixture(scope="module")
def problem():
    """Squashed 10-D Gaussians: 240 normal, 60 anomalies; 20 known normals and 10 known anomalies."""
    rng = np.random.default_rng(0)
    squash = lambda x: (1 / (1 + np.exp(-x / 2))).astype(np.float32)
    normal = squash(rng.normal(0, 1, size=(290, 10)))
    anomalies = squash(rng.normal(3, 1, size=(60, 10)))
    x_train = np.concatenate([normal[:240], anomalies[:10]])
    semi = np.r_[np.zeros(220), np.ones(20), -np.ones(10)].astype(int)
    x_test = np.concatenate([normal[240:], anomalies[10:]])
    return x_train, semi, x_test, np.r_[np.zeros(50), np.ones(50)]


def fit(x, semi, seed=0, **kw):
    params = dict(latent_dim=4, hidden=(16, 8), epochs=20, batch_size=50, lr=1e-2, seed=seed)
    return SSDGM(**{**params, **kw}).fit(x, semi)


def test_detects_anomalies_with_a_few_labelled_ones(problem):
    x_train, semi, x_test, y_test = problem
    detector = fit(x_train, semi)
    scores = detector.decision_function(x_test)
    assert roc_auc_score(y_test, scores) > 0.9
    assert ((scores >= 0) & (scores <= 1)).all()  # a probability
    assert detector.alpha_ == pytest.approx(0.1 * 220 / 30)
    assert detector.threshold_ == pytest.approx(np.quantile(detector.decision_function(x_train), 0.9))


def test_same_seed_same_scores_other_seed_other_scores(problem):
    x_train, semi, x_test, _ = problem
    first, again, other = (fit(x_train, semi, seed=s, epochs=2).decision_function(x_test) for s in (5, 5, 6))
    assert np.array_equal(first, again)
    assert not np.allclose(first, other)


def test_without_labelled_anomalies_it_refuses_before_training(problem):
    x_train, semi, _, _ = problem
    for labels in (None, np.where(semi == -1, 0, semi), np.ones(len(semi), dtype=int)):
        with pytest.raises(OcbenchError, match="labelled anomalies"):
            SSDGM().fit(x_train, labels)


def test_bad_parameters_are_refused(problem):
    x_train, semi, _, _ = problem
    with pytest.raises(OcbenchError, match="alpha"):
        SSDGM(alpha=-1.0).fit(x_train, semi)
    with pytest.raises(OcbenchError, match="latent_dim"):
        SSDGM(latent_dim=0).fit(x_train, semi)
    with pytest.raises(OcbenchError, match="hidden"):
        SSDGM(hidden=()).fit(x_train, semi)
    with pytest.raises(OcbenchError, match="net"):
        SSDGM(net="resnet").fit(x_train, semi)


def test_image_net_uses_its_lenet_as_the_classifier():
    rng = np.random.default_rng(1)
    x = rng.random((40, 1, 28, 28), dtype=np.float32)
    semi = np.r_[np.zeros(32), np.ones(4), -np.ones(4)].astype(int)
    detector = SSDGM(net="mnist_lenet", epochs=1, batch_size=20, seed=0).fit(x, semi)
    assert type(detector.model_.classifier.backbone).__name__ == "MnistLeNet"
    assert (detector.latent_dim_, detector.hidden_) == (32, (128, 64))
    assert detector.decision_function(x).shape == (40,)
    # N×784 is the same images: the same fit, the same scores; channels last fits no net
    flat = SSDGM(net="mnist_lenet", epochs=1, batch_size=20, seed=0).fit(x.reshape(40, -1), semi)
    np.testing.assert_array_equal(flat.decision_function(x.reshape(40, -1)), detector.decision_function(x))
    with pytest.raises(OcbenchError, match=r"net 'mnist_lenet' takes samples of shape \(1, 28, 28\)"):
        SSDGM(net="mnist_lenet").fit(x.reshape(40, 28, 28, 1), semi)


def test_tabular_net_gets_the_one_hidden_layer_classifier():
    rng = np.random.default_rng(2)
    x = rng.random((40, 21), dtype=np.float32)
    semi = np.r_[np.zeros(36), -np.ones(4)].astype(int)
    detector = SSDGM(net="cardio_mlp", epochs=1, batch_size=20, seed=0).fit(x, semi)
    classifier = detector.model_.classifier
    assert classifier.backbone is None and classifier.dense.out_features == 32
    assert (detector.latent_dim_, detector.hidden_) == (8, (32, 16))


def test_registry_entry_builds_an_ss_dgm():
    spec = METHODS["ss_dgm"]
    assert spec.deep and spec.needs_labels and not spec.pretrained and spec.detector is SSDGM
    detector = spec.factory({"alpha": 0.5}, net="cardio_mlp", device="cpu", seed=2, autoencoder=None)
    assert isinstance(detector, SSDGM) and detector.uses_labels
    assert (detector.net, detector.alpha, detector.seed) == ("cardio_mlp", 0.5, 2)
