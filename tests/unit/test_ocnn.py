"""OC-NN: the objective on hand-worked numbers, the r update, the frozen encoder, detection; and the
formulation of the authors' code (loss, centre and score worked by hand from their Keras code), with
RCAE's score as theirs computed it."""
import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from ocbench.detectors import METHODS
from ocbench.detectors.objectives import AUTHORS_OCNN_RADIUS, init_center, ocnn_authors_loss, ocnn_loss, ocnn_offset
from ocbench.detectors.ocnn import FORMULATIONS, OCNN
from ocbench.nets.ocnn_head import OCNNHead
from ocbench.errors import OcbenchError
from ocbench.nets import Autoencoder
from ocbench.nets.mlp import MLP, MLPDecoder


def test_loss_on_hand_worked_numbers():
    y_hat = torch.tensor([0.5, 1.0, 2.0])
    w = torch.tensor([[1.0, 2.0]])  # 1/2 (1 + 4) = 2.5
    V = torch.tensor([[1.0, -1.0], [2.0, 0.0]])  # 1/2 (1 + 1 + 4) = 3
    # r = 1: hinge max(0, 1 - y_hat) = [0.5, 0, 0], mean 1/6, / nu (0.5) = 1/3; minus r
    assert ocnn_loss(y_hat, 1.0, 0.5, w, V).item() == pytest.approx(2.5 + 3 + 1 / 3 - 1)
    # outputs all above r: no hinge, only the penalty minus r
    assert ocnn_loss(y_hat, 0.25, 0.5, w, V).item() == pytest.approx(2.5 + 3 - 0.25)


def test_offset_is_the_nu_quantile():
    y_hat = torch.tensor([5.0, 1.0, 3.0, 2.0, 4.0])
    assert ocnn_offset(y_hat, 0.25) == pytest.approx(2.0)  # position 0.25 * 4 = 1 of [1, 2, 3, 4, 5]
    assert ocnn_offset(y_hat, 0.1) == pytest.approx(1.4)  # position 0.4: 1 + 0.4 * (2 - 1)


def test_head_computes_w_dot_g_of_V_z():
    head = OCNNHead(2, 2, "sigmoid")
    with torch.no_grad():
        head.V.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, -1.0]]))
        head.w.weight.copy_(torch.tensor([[2.0, 3.0]]))
    z = torch.tensor([[0.0, 0.0], [1.0, 2.0]])
    expected = [2 * 0.5 + 3 * 0.5, 2 * torch.sigmoid(torch.tensor(1.0)).item() + 3 * torch.sigmoid(torch.tensor(-2.0)).item()]
    assert head(z).tolist() == pytest.approx(expected)


@pytest.fixture(scope="module")
def easy():
    """Normal data around +2 in 10-D, anomalies around the origin."""
    rng = np.random.default_rng(0)
    normal = rng.normal(2.0, 1.0, (240, 10)).astype(np.float32)
    anomalies = rng.normal(0.0, 1.0, (40, 10)).astype(np.float32)
    x_test = np.concatenate([normal[200:], anomalies])
    return normal[:200], x_test, np.r_[np.zeros(40), np.ones(40)].astype(int)


def fit(x, **kw):
    params = dict(net=MLP(10, (32,), 8), epochs=20, batch_size=50, lr=1e-2, seed=0)
    params.update(kw)
    return OCNN(**params).fit(x)


def test_r_is_the_nu_quantile_of_the_training_outputs_after_the_last_epoch(easy):
    x_train, _, _ = easy
    detector = fit(x_train, nu=0.2, epochs=3)
    with torch.no_grad():
        y_hat = detector.head_(torch.from_numpy(detector.transform(x_train)))
    assert detector.r_ == pytest.approx(float(torch.quantile(y_hat.double(), 0.2)), rel=1e-6)
    # score = r - y_hat, boundary at 0: a share nu of the training data lies above it
    scores = detector.decision_function(x_train)
    np.testing.assert_allclose(scores, detector.r_ - y_hat.numpy(), rtol=1e-5, atol=1e-6)
    assert detector.threshold_ == 0.0
    assert np.mean(scores > 0) == pytest.approx(0.2, abs=0.01)


def test_detects_easy_anomalies(easy):
    x_train, x_test, y_test = easy
    detector = fit(x_train)
    assert roc_auc_score(y_test, detector.decision_function(x_test)) > 0.9
    predicted = detector.predict(x_test)
    assert predicted[y_test == 1].mean() > predicted[y_test == 0].mean()


def test_pretrained_encoder_is_used_and_stays_frozen(easy):
    x_train, _, _ = easy
    ae = Autoencoder(MLP(10, (32,), 8), MLPDecoder(10, (32,), 8))
    with torch.no_grad():
        ae.train()(torch.from_numpy(x_train))  # batch-norm statistics of the data
    ae.eval()
    detector = fit(x_train, epochs=2, autoencoder=ae)
    with torch.no_grad():
        expected = ae.encoder(torch.from_numpy(x_train)).numpy()
    np.testing.assert_array_equal(detector.transform(x_train), expected)
    assert all(not p.requires_grad for p in detector.network_.parameters())


def test_same_seed_same_scores(easy):
    x_train, x_test, _ = easy
    net = MLP(10, (32,), 8)  # one module: fit copies it, so the runs differ by seed alone
    first = fit(x_train, net=net, epochs=2, seed=3).decision_function(x_test)
    again = fit(x_train, net=net, epochs=2, seed=3).decision_function(x_test)
    other = fit(x_train, net=net, epochs=2, seed=4).decision_function(x_test)
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


def test_bad_parameters_are_refused(easy):
    x_train, _, _ = easy
    with pytest.raises(OcbenchError, match="nu"):
        fit(x_train, nu=0.0)
    with pytest.raises(OcbenchError, match="hidden"):
        fit(x_train, hidden=0)
    with pytest.raises(OcbenchError, match="activation"):
        fit(x_train, activation="tanh")


def test_registry_entry():
    spec = METHODS["ocnn"]
    assert spec.detector is OCNN and spec.deep and spec.pretrained and not spec.needs_labels
    detector = spec.factory({"nu": 0.05, "hidden": 16}, net="mnist_lenet", device="cpu", seed=1, autoencoder=None)
    assert (detector.nu, detector.hidden, detector.seed) == (0.05, 16, 1)


def test_separates_from_the_origin_so_anomalies_beyond_the_data_score_as_normal():
    """OC-NN's geometry (docs/method_notes.md): like a linear one-class SVM it puts the
    boundary between the data and the origin of its feature space. Anomalies on the far
    side of the normal data, away from the origin, get a *higher* output than the normal
    data and rank as the most normal samples; the same anomalies near the origin rank
    as anomalous. The inverted OC-NN cells on wbc are this case (its malignant samples
    have larger codes than the benign ones)."""
    rng = np.random.default_rng(1)
    normal = rng.normal(2.0, 0.5, (300, 4)).astype(np.float32)
    near_origin = rng.normal(0.0, 0.5, (40, 4)).astype(np.float32)
    beyond = rng.normal(4.0, 0.5, (40, 4)).astype(np.float32)
    labels = np.r_[np.zeros(60), np.ones(40)]
    detector = OCNN(net=torch.nn.Identity(), epochs=200, batch_size=60, lr=1e-2, milestones=(), seed=0)
    detector.fit(normal[:240])
    auroc_near = roc_auc_score(labels, detector.decision_function(np.concatenate([normal[240:], near_origin])))
    auroc_beyond = roc_auc_score(labels, detector.decision_function(np.concatenate([normal[240:], beyond])))
    assert auroc_near > 0.95
    assert auroc_beyond < 0.05


# --------------------------------------------------------------------------- the authors' code
# TensorFlow 1.x, which their code needs (tf.Session, Keras 2.2's model.layers.pop()), has no
# wheel for this Python, so their code does not run here: each component is worked by hand
# from its lines in src/models/OneClass_SVDD.py (commit f571305) instead.

def keras_custom_hinge(y_pred, center, r=0.1, nu=0.2):
    """Their loss, line for line in numpy (lines 886-908): K.square, K.sum(axis=1), K.maximum, K.mean."""
    term3 = np.square(r) + np.sum(np.maximum(0.0, np.square(y_pred - center) - np.square(r)), axis=1)
    return 1 / nu * np.mean(term3)


def test_authors_loss_on_hand_worked_numbers():
    outputs = torch.tensor([[0.3, 0.1], [0.1, -0.4]])
    center = torch.tensor([0.1, 0.1])
    # sample 1: (0.2^2 - 0.01) = 0.03 and max(0, 0 - 0.01) = 0, plus r^2: 0.04
    # sample 2: max(0, 0 - 0.01) = 0 and (0.5^2 - 0.01) = 0.24, plus r^2: 0.25
    # (1 / 0.2) * mean(0.04, 0.25) = 5 * 0.145 = 0.725
    assert ocnn_authors_loss(outputs, center, 0.2).item() == pytest.approx(0.725)
    assert keras_custom_hinge(outputs.numpy(), center.numpy()) == pytest.approx(0.725)
    # every output within r of the centre: only r^2 is left, / nu
    assert ocnn_authors_loss(center.repeat(3, 1) + 0.05, center, 0.2).item() == pytest.approx(0.01 / 0.2)
    assert AUTHORS_OCNN_RADIUS == 0.1


def test_authors_centre_is_the_clamped_mean_of_the_initial_outputs():
    outputs = torch.tensor([[0.05, -0.30, 0.3, -0.02], [0.09, -0.20, -0.1, -0.06]])
    # means 0.07, -0.25, 0.1, -0.04: within 0.1 of 0 they go to +-0.1 by their sign
    expected = [0.1, -0.25, 0.1, -0.1]
    assert init_center(outputs).tolist() == pytest.approx(expected)
    c = outputs.numpy().mean(axis=0)  # their lines 1630-1638
    eps = 0.1
    c[(abs(c) < eps) & (c < 0)] = -eps
    c[(abs(c) < eps) & (c > 0)] = eps
    assert c.tolist() == pytest.approx(expected)


def fit_authors(x, **kw):
    params = dict(net=torch.nn.Identity(), formulation="authors_code", nu=0.2, hidden=4, epochs=1, batch_size=50,
                  lr=1e-2, seed=0)
    params.update(kw)
    return OCNN(**params).fit(x)


def test_authors_layer_centre_and_score(easy):
    x_train, x_test, _ = easy
    # no step moves the weights (lr 1e-12): the fitted layer is the initial one
    detector = fit_authors(x_train, lr=1e-12)
    linear = detector.network_[1]
    assert linear.bias is None and linear.weight.shape == (4, 10)
    assert linear.weight.abs().max() <= np.sqrt(6 / (10 + 4))  # Keras' glorot_uniform bound
    outputs = torch.from_numpy(detector.transform(x_train))
    torch.testing.assert_close(detector.c_, init_center(outputs))
    # the score is the squared distance of the outputs to the centre (their lines 2078-2103)
    y = detector.transform(x_test)
    np.testing.assert_allclose(detector.decision_function(x_test), ((y - detector.c_.numpy()) ** 2).sum(axis=1),
                               rtol=1e-5)
    assert detector.r_ == 0.1
    # a share nu of the training data scores above the threshold
    assert np.mean(detector.decision_function(x_train) > detector.threshold_) == pytest.approx(0.2, abs=0.01)


def test_authors_formulation_trains_the_encoder_with_the_layer(easy):
    x_train, _, _ = easy
    ae = Autoencoder(MLP(10, (32,), 8), MLPDecoder(10, (32,), 8)).eval()
    detector = fit_authors(x_train, net=MLP(10, (32,), 8), autoencoder=ae, epochs=2)
    trained = detector.network_[0].state_dict()
    assert any(not torch.equal(trained[k], v) for k, v in ae.encoder.state_dict().items())
    assert detector.formulation_ == "authors_code" and not hasattr(detector, "head_")


def test_authors_formulation_detects_easy_anomalies_and_is_deterministic(easy):
    x_train, x_test, y_test = easy
    net = MLP(10, (32,), 8)
    first = fit_authors(x_train, net=net, epochs=20).decision_function(x_test)
    again = fit_authors(x_train, net=net, epochs=20).decision_function(x_test)
    np.testing.assert_array_equal(first, again)
    assert roc_auc_score(y_test, first) > 0.9


def test_an_unknown_formulation_is_refused(easy):
    x_train, _, _ = easy
    with pytest.raises(OcbenchError, match="formulation must be one of paper, authors_code, got 'author'"):
        fit(x_train, formulation="author")
    assert FORMULATIONS == ("paper", "authors_code")


def test_the_authors_code_entry_fixes_the_formulation():
    spec = METHODS["ocnn_authors_code"]
    assert spec.detector is OCNN and spec.fixed == {"formulation": "authors_code"}
    detector = spec.factory({"nu": 0.2, "epochs": 100}, net="mnist_lenet", device="cpu", seed=1, autoencoder=None)
    assert (detector.formulation, detector.nu, detector.epochs) == ("authors_code", 0.2, 100)
    assert METHODS["ocnn"].factory({}, net="mnist_lenet", device="cpu", seed=1, autoencoder=None).formulation == "paper"


def test_rcae_score_ranks_as_the_authors_summed_squared_error():
    """Their RCAE and DCAE score (src/models/RCAE.py, line 561): ((decoded - X) ** 2).sum(axis=1).
    ocbench's scorers average over the D entries instead: D times smaller, the same ranking."""
    from ocbench.detectors.autoencoder import reconstruction_error

    x = torch.tensor([[0.0, 1.0], [1.0, 1.0], [0.5, 0.5]])
    decoded = torch.tensor([[0.5, 1.0], [1.0, 0.0], [0.5, 0.2]])
    theirs = ((decoded.numpy() - x.numpy()) ** 2).sum(axis=1)
    assert theirs.tolist() == pytest.approx([0.25, 1.0, 0.09])  # 0.5^2; 1^2; 0.3^2
    ours = reconstruction_error(lambda batch: decoded, x)  # what ReconstructionScorer scores with
    assert ours.tolist() == pytest.approx([0.125, 0.5, 0.045])
    labels = [0, 1, 0]
    assert roc_auc_score(labels, ours.numpy()) == roc_auc_score(labels, theirs) == 1.0
