"""Deep SAD: the loss on hand-worked numbers, its reduction to Deep SVDD, and what labels buy."""
import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from ocbench.detectors import METHODS
from ocbench.detectors.autoencoder import AutoencoderDetector
from ocbench.detectors.deep_sad import DeepSAD
from ocbench.detectors.deep_svdd import DeepSVDD
from ocbench.detectors.objectives import deep_sad_loss, init_center, one_class_loss
from ocbench.errors import OcbenchError
from ocbench.nets import Autoencoder
from ocbench.nets.mlp import MLP, MLPDecoder


def test_loss_on_hand_worked_numbers():
    dist = torch.tensor([1.0, 2.0, 4.0])
    semi = torch.tensor([0, 1, -1])
    # unlabeled: d = 1; known normal: (d + 0)^1 = 2; known anomaly: (d + 0)^-1 = 1/4
    assert deep_sad_loss(dist, semi, eta=1.0, eps=0.0).item() == pytest.approx((1 + 2 + 1 / 4) / 3)
    # eta weighs the labelled terms only: 1 + 2*2 + 2/4
    assert deep_sad_loss(dist, semi, eta=2.0, eps=0.0).item() == pytest.approx((1 + 4 + 0.5) / 3)
    # eps keeps a known anomaly at the centre finite: 1 / (0 + 0.5) = 2
    assert deep_sad_loss(torch.tensor([0.0]), torch.tensor([-1]), eps=0.5).item() == pytest.approx(2.0)


def test_loss_without_labels_is_the_one_class_loss():
    dist = torch.tensor([0.3, 1.7, 2.0, 5.5])
    assert deep_sad_loss(dist, torch.zeros(4, dtype=torch.long)).item() == pytest.approx(one_class_loss(dist).item())


def test_all_unlabeled_gives_one_class_deep_svdd_exactly(blobs):
    x_train, x_test, _ = blobs
    kw = dict(net=MLP(10, (16,), 4), epochs=3, batch_size=50, lr=1e-3, seed=4)
    sad = DeepSAD(**kw).fit(x_train, np.zeros(len(x_train), dtype=int))
    svdd = DeepSVDD(objective="one-class", **kw).fit(x_train)
    assert torch.equal(sad.c_, svdd.c_)
    assert sad.train_losses_ == pytest.approx(svdd.train_losses_, rel=1e-6)
    np.testing.assert_allclose(sad.decision_function(x_test), svdd.decision_function(x_test), rtol=1e-5)
    assert sad.threshold_ == pytest.approx(svdd.threshold_, rel=1e-5)
    # y=None means all unlabeled too
    np.testing.assert_array_equal(DeepSAD(**kw).fit(x_train).decision_function(x_test),
                                  sad.decision_function(x_test))


@pytest.fixture(scope="module")
def labelled_problem():
    """Anomalies close to the normal data (shifted by 1.5 in 3 of 10 dimensions), 20 of them labelled."""
    rng = np.random.default_rng(0)
    shift = np.zeros(10, dtype=np.float32)
    shift[:3] = 1.5
    normal = rng.normal(0, 1, (300, 10)).astype(np.float32)
    anomalies = (rng.normal(0, 1, (80, 10)) + shift).astype(np.float32)
    x_train = np.concatenate([normal[:200], anomalies[:20]])
    semi = np.r_[np.zeros(200), -np.ones(20)].astype(int)
    x_test = np.concatenate([normal[200:], anomalies[20:]])
    y_test = np.r_[np.zeros(100), np.ones(60)].astype(int)
    return x_train, semi, x_test, y_test


def test_labelled_anomalies_beat_one_class_deep_svdd(labelled_problem):
    x_train, semi, x_test, y_test = labelled_problem
    kw = dict(net=MLP(10, (16,), 4), epochs=30, batch_size=55, lr=1e-3, seed=0)
    sad = DeepSAD(**kw).fit(x_train, semi)
    svdd = DeepSVDD(objective="one-class", **kw).fit(x_train)  # the same data, labels unused
    auc_sad = roc_auc_score(y_test, sad.decision_function(x_test))
    auc_svdd = roc_auc_score(y_test, svdd.decision_function(x_test))
    # Over seeds 0-5 Deep SAD reaches 0.87-0.95 and Deep SVDD 0.55-0.67 here.
    assert auc_sad > 0.8
    assert auc_sad > auc_svdd + 0.1
    assert sad.n_known_anomalies_ == 20 and sad.n_known_normal_ == 0
    assert sad.threshold_ == pytest.approx(np.quantile(sad.decision_function(x_train), 0.9), rel=1e-5)


def test_centre_comes_from_the_pretrained_encoder(blobs):
    x_train, _, _ = blobs
    ae = Autoencoder(MLP(10, (16,), 4), MLPDecoder(10, (16,), 4))
    with torch.no_grad():  # move the batch-norm statistics away from their initial values
        ae.train()(torch.from_numpy(x_train))
    ae.eval()
    sad = DeepSAD(net=MLP(10, (16,), 4), epochs=1, lr=1e-3, seed=0, autoencoder=ae).fit(x_train)
    with torch.no_grad():
        expected = init_center(ae.encoder(torch.from_numpy(x_train)))
    assert torch.allclose(sad.c_, expected)


def test_pretrained_file_and_random_start(tmp_path):
    x = np.random.default_rng(0).random((60, 13)).astype(np.float32)
    AutoencoderDetector(net="wine_mlp", epochs=1, batch_size=30, seed=1).fit(x).save(tmp_path / "autoencoder.pt")
    from_file = DeepSAD(net="wine_mlp", epochs=1, batch_size=30, seed=0, autoencoder=tmp_path / "autoencoder.pt").fit(x)
    random_start = DeepSAD(net="wine_mlp", epochs=1, batch_size=30, seed=0, autoencoder=None).fit(x)
    encoder = AutoencoderDetector.load(tmp_path / "autoencoder.pt").autoencoder_.encoder
    with torch.no_grad():
        expected = init_center(encoder(torch.from_numpy(x)))
    assert torch.allclose(from_file.c_, expected)
    assert not torch.allclose(random_start.c_, expected)


def test_bad_input_is_refused_before_training(blobs):
    x_train, _, _ = blobs
    with pytest.raises(OcbenchError, match="semi-labels"):
        DeepSAD(net=MLP(10, (16,), 4)).fit(x_train, np.full(len(x_train), 2))
    with pytest.raises(OcbenchError, match="labels but X has"):
        DeepSAD(net=MLP(10, (16,), 4)).fit(x_train, np.zeros(3))
    with pytest.raises(OcbenchError, match="eta"):
        DeepSAD(net=MLP(10, (16,), 4), eta=0).fit(x_train)
    with pytest.raises(OcbenchError, match="eps"):
        DeepSAD(net=MLP(10, (16,), 4), eps=-1.0).fit(x_train)


def test_registry_entry():
    spec = METHODS["deep_sad"]
    assert spec.detector is DeepSAD and not spec.needs_labels and spec.deep and spec.pretrained
    detector = spec.factory({"eta": 2.0}, net="mnist_lenet", device="cpu", seed=3, autoencoder=None)
    assert detector.uses_labels and detector.eta == 2.0 and detector.seed == 3 and detector.autoencoder is None
