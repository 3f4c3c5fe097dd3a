"""The supervised classifier of the Deep SAD paper (``detectors/supervised.py``): its loss on numbers
worked by hand, an easy labelled problem, its refusals, and its place in the registry and the preset."""
import math

import numpy as np
import pytest
import torch
import torch.nn as nn
import yaml
from sklearn.metrics import roc_auc_score

from ocbench.detectors import METHODS
from ocbench.detectors.supervised import SupervisedClassifier, anomaly_targets, supervised_loss
from ocbench.errors import OcbenchError

from helpers.paths import ROOT


def test_the_loss_is_binary_cross_entropy_of_the_labelled_anomalies_against_the_rest():
    # semi-labels 0 (unlabelled), -1 (labelled anomaly), +1 (labelled normal): targets 0, 1, 0
    semi = torch.tensor([0, -1, 1])
    assert anomaly_targets(semi).tolist() == [0.0, 1.0, 0.0]
    # logits 0, 2, -1: -log(1 - σ(0)) = log 2 = 0.693147, -log σ(2) = log(1 + e^-2) = 0.126928,
    # -log(1 - σ(-1)) = log(1 + e^-1) = 0.313262; their mean 0.377779
    loss = supervised_loss(torch.tensor([0.0, 2.0, -1.0]), semi)
    assert loss.item() == pytest.approx((math.log(2) + math.log(1 + math.exp(-2)) + math.log(1 + math.exp(-1))) / 3)
    assert loss.item() == pytest.approx(0.377779, abs=1e-6)


def blobs(seed: int):
    """Normal points around (0, 0), anomalies around (3, 3), spread 0.5: 400 normal and 20
    labelled anomalies to train on, 200 of each to test on."""
    rng = np.random.default_rng(seed)
    normal = rng.normal(0.0, 0.5, (600, 2))
    anomalies = rng.normal(3.0, 0.5, (220, 2))
    x_train = np.concatenate([normal[:400], anomalies[:20]]).astype(np.float32)
    semi = np.concatenate([np.zeros(400, dtype=int), -np.ones(20, dtype=int)])
    x_test = np.concatenate([normal[400:], anomalies[20:]]).astype(np.float32)
    y_test = np.concatenate([np.zeros(200, dtype=int), np.ones(200, dtype=int)])
    return x_train, semi, x_test, y_test


def small_net():
    return nn.Sequential(nn.Linear(2, 16), nn.LeakyReLU(), nn.Linear(16, 4))


def test_an_easy_labelled_problem_is_learned():
    x_train, semi, x_test, y_test = blobs(0)
    detector = SupervisedClassifier(net=small_net(), lr=1e-2, epochs=30, milestones=(), batch_size=64, seed=1)
    detector.fit(x_train, semi)
    scores = detector.decision_function(x_test)
    assert roc_auc_score(y_test, scores) > 0.99
    # the classifier's own boundary, logit 0: most anomalies above it, most normal samples below
    flagged = detector.predict(x_test).astype(bool)
    assert detector.threshold_ == 0.0
    assert flagged[y_test == 1].mean() > 0.9 and flagged[y_test == 0].mean() < 0.1
    assert detector.n_known_anomalies_ == 20 and detector.train_losses_[-1] < detector.train_losses_[0]


def test_the_same_seed_gives_the_same_scores():
    x_train, semi, x_test, _ = blobs(0)
    net = small_net()  # a module is copied, never trained in place: both fits start from its weights
    fit = lambda: SupervisedClassifier(net=net, lr=1e-2, epochs=3, milestones=(), batch_size=64,  # noqa: E731
                                       seed=2).fit(x_train, semi)
    np.testing.assert_array_equal(fit().decision_function(x_test), fit().decision_function(x_test))


@pytest.mark.parametrize("semi", [None, np.ones(420, dtype=int)])
def test_a_training_set_without_labelled_anomalies_is_refused_in_one_line(semi):
    x_train = blobs(0)[0]
    with pytest.raises(OcbenchError, match=r"^supervised needs labelled anomalies \(ratio_known_outlier > 0\); "
                                           "the training semi-labels have no -1$"):
        SupervisedClassifier(net=small_net(), epochs=1).fit(x_train, semi)


def test_the_registry_entry_is_deep_sad_with_a_binary_head():
    spec, deep_sad = METHODS["supervised"], METHODS["deep_sad"]
    assert spec.detector is SupervisedClassifier and spec.deep and spec.pretrained and spec.needs_labels
    assert spec.builds == deep_sad.builds == "encoder" and spec.training == deep_sad.training == "network"
    # Deep SAD's hyper-parameters, less its objective's
    assert set(spec.hyper_parameters) == set(deep_sad.hyper_parameters) - {"eta", "eps"}


def test_the_deep_sad_preset_runs_it_where_anomalies_are_labelled(tmp_path):
    from ocbench.config import load_and_validate
    from ocbench.config.names import dataset_methods

    config = yaml.safe_load((ROOT / "workflow" / "experiments" / "deep_sad_iclr2020.yaml").read_text())
    config["devices"] = ["cpu"]
    config = load_and_validate(config)
    for setting in config["settings"]:
        chosen = dataset_methods(config, "fmnist", setting)
        assert ("supervised" in chosen) == (config["settings"][setting]["ratio_known_outlier"] > 0), setting
