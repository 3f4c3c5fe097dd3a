"""Deep SVDD: transfer of the pretrained encoder, the radius, determinism, and detection."""
import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from ocbench.detectors.autoencoder import AutoencoderDetector
from ocbench.detectors.deep import transfer_encoder_weights
from ocbench.detectors.deep_svdd import DeepSVDD
from ocbench.detectors.objectives import init_center, radius_from_distances, squared_distance
from ocbench.errors import OcbenchError
from ocbench.nets import build_network
from ocbench.nets.mlp import MLP


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(1)
    return rng.random((64, 1, 28, 28), dtype=np.float32)


@pytest.fixture(scope="module")
def pretrained(images, tmp_path_factory):
    ae = AutoencoderDetector(net="mnist_lenet", epochs=1, batch_size=32, seed=3).fit(images)
    path = tmp_path_factory.mktemp("ae") / "autoencoder.pt"
    ae.save(path)
    return ae, path


def test_transfer_makes_the_network_compute_the_encoder_codes(images, pretrained):
    ae, _ = pretrained
    x = torch.from_numpy(images)
    network = build_network("mnist_lenet").eval()
    encoder = ae.autoencoder_.encoder.eval()
    with torch.no_grad():
        assert not torch.allclose(network(x), encoder(x))  # a fresh network differs
        transfer_encoder_weights(network, ae.autoencoder_)
        assert torch.equal(network(x), encoder(x))  # BN running statistics came along too


def test_deep_svdd_centre_comes_from_the_pretrained_codes(images, pretrained):
    ae, path = pretrained
    detector = DeepSVDD(net="mnist_lenet", epochs=1, batch_size=32, seed=3, autoencoder=path).fit(images)
    with torch.no_grad():
        expected = init_center(ae.autoencoder_.encoder.eval()(torch.from_numpy(images)))
    assert torch.allclose(detector.c_, expected)


def test_autoencoder_for_another_net_is_refused(images, pretrained):
    _, path = pretrained
    with pytest.raises(OcbenchError, match="fmnist_lenet"):
        DeepSVDD(net="fmnist_lenet", epochs=1, autoencoder=path).fit(images)


def test_corrupt_autoencoder_file_names_the_file(tmp_path, images):
    bad = tmp_path / "autoencoder.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(OcbenchError, match="autoencoder.pt"):
        DeepSVDD(epochs=1, autoencoder=bad).fit(images)


def test_soft_boundary_radius_is_the_quantile_after_warm_up(blobs):
    x_train, _, _ = blobs
    # One full batch and a learning rate too small to move the weights: after the step
    # R must equal the (1 - nu) quantile of sqrt(d) of the training data.
    detector = DeepSVDD(net=MLP(10, (16,), 4), objective="soft-boundary", nu=0.2, warm_up_epochs=0,
                        epochs=2, batch_size=len(x_train), lr=1e-12, seed=0).fit(x_train)
    # The radius is taken from the distances of the training step, where batch norm uses
    # the batch's statistics: recompute them in training mode.
    network = detector.network_.train()
    with torch.no_grad():
        dist = squared_distance(network(torch.from_numpy(x_train)), detector.c_)
    network.eval()
    assert detector.R_ == pytest.approx(radius_from_distances(dist, 0.2), rel=1e-4)
    assert detector.threshold_ == 0.0
    assert np.mean(dist.numpy() > detector.R_ ** 2) == pytest.approx(0.2, abs=0.01)


def test_radius_stays_zero_during_warm_up(blobs):
    x_train, _, _ = blobs
    detector = DeepSVDD(net=MLP(10, (16,), 4), objective="soft-boundary", warm_up_epochs=5,
                        epochs=2, seed=0).fit(x_train)
    assert detector.R_ == 0.0


@pytest.mark.parametrize("objective", ["one-class", "soft-boundary"])
def test_detects_easy_anomalies(blobs, objective):
    x_train, x_test, y_test = blobs
    detector = DeepSVDD(net=MLP(10, (32, 16), 8), objective=objective, warm_up_epochs=2,
                        epochs=10, batch_size=50, lr=1e-3, seed=0).fit(x_train)
    assert roc_auc_score(y_test, detector.decision_function(x_test)) > 0.9
    predicted = detector.predict(x_test)
    assert predicted[y_test == 1].mean() > predicted[y_test == 0].mean()


def test_same_seed_same_scores_other_seed_other_scores(images):
    def scores(seed):
        return DeepSVDD(net="mnist_lenet", epochs=2, batch_size=16, seed=seed).fit(images).decision_function(images)
    first, again, other = scores(5), scores(5), scores(6)
    assert np.array_equal(first, again)
    assert not np.allclose(first, other)


def test_parameters_are_checked_before_training(images):
    with pytest.raises(OcbenchError, match="objective"):
        DeepSVDD(objective="hard").fit(images)
    with pytest.raises(OcbenchError, match="nu"):
        DeepSVDD(nu=1.5).fit(images)
    with pytest.raises(OcbenchError, match="epochs"):
        DeepSVDD(epochs=0).fit(images)
    with pytest.raises(OcbenchError, match="net"):
        DeepSVDD(net="resnet").fit(images)


def test_network_parameter_is_not_mutated(blobs):
    x_train, _, _ = blobs
    net = MLP(10, (16,), 4)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    DeepSVDD(net=net, epochs=2, seed=0).fit(x_train)
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())


def test_autoencoder_detector_scores_reconstruction_error(blobs):
    x_train, x_test, y_test = blobs
    # Squash into (0, 1) for the sigmoid output and pad to the 13 inputs of wine_mlp.
    prepare = lambda x: np.pad(1 / (1 + np.exp(-x / 3)), ((0, 0), (0, 3)), constant_values=0.5)
    detector = AutoencoderDetector(net="wine_mlp", epochs=30, batch_size=50, lr=1e-2, seed=0)
    detector.fit(prepare(x_train))
    assert roc_auc_score(y_test, detector.decision_function(prepare(x_test))) > 0.9
    assert detector.threshold_ == pytest.approx(np.quantile(detector.decision_function(prepare(x_train)), 0.9))
