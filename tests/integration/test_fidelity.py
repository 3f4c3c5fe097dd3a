"""Fidelity with the reference implementations, checked without their code.

- the autoencoder loss (``sum`` as Deep SVDD's reference, ``mean`` as Deep SAD's) on
  numbers worked by hand, and its interaction with Adam's weight decay;
- ``init``: the initial weights equal the reference's for the same seed, against the
  fixture that benchmarks/fidelity/reference_init_fixture.py wrote from the reference
  code (per-tensor sha256 of the float32 bytes, sums and first values).
"""
import hashlib
import json

import numpy as np
import pytest
import torch
import torch.nn as nn

from ocbench.config import autoencoder_params, load_and_validate, method_params
from ocbench.detectors import AutoencoderDetector, DeepSAD, DeepSVDD
from ocbench.detectors.autoencoder import autoencoder_loss, reconstruction_error
from ocbench.errors import OcbenchError
from ocbench.nets import Autoencoder, build_autoencoder, build_network
from ocbench.nets.reference_init import SEQUENCES, apply_init, reference_of
from ocbench.training import TrainConfig, train_network

from helpers.paths import FIXTURES, ROOT

FIXTURE = json.loads((FIXTURES / "reference_init_seed1.json").read_text())
SEED = FIXTURE["seed"]


class Scale(nn.Module):
    """x -> theta * x: one weight, so every gradient below can be worked by hand."""

    def __init__(self, theta: float):
        super().__init__()
        self.theta = nn.Parameter(torch.tensor(theta, dtype=torch.float64))

    def forward(self, x):
        return self.theta * x


def scale_autoencoder(theta=0.5):
    return Autoencoder(nn.Identity(), Scale(theta))


# --------------------------------------------------------------------------- the autoencoder loss

def test_autoencoder_loss_sum_and_mean_on_hand_worked_numbers():
    # reconstruction 0.5 x, so the squared errors are x^2 / 4
    x = torch.tensor([[1.0, 2.0, 2.0, 4.0], [0.0, 0.0, 0.0, 2.0]], dtype=torch.float64)
    ae = scale_autoencoder(0.5)
    # sample sums 25 / 4 = 6.25 and 4 / 4 = 1; their means over D = 4 entries 1.5625 and 0.25
    assert reconstruction_error(ae, x, "sum").tolist() == [6.25, 1.0]
    assert reconstruction_error(ae, x, "mean").tolist() == [1.5625, 0.25]
    assert autoencoder_loss(ae, x, "sum").item() == 3.625       # (6.25 + 1) / 2 over the batch
    assert autoencoder_loss(ae, x, "mean").item() == 0.90625    # (1.5625 + 0.25) / 2


def adam_step(loss: str, weight_decay: float):
    """One Adam step of x -> theta x (theta = 0.5) on x = [1, 2, 2, 4]; returns (exp_avg, theta)."""
    ae = scale_autoencoder(0.5)
    optimizer = torch.optim.Adam(ae.parameters(), lr=0.01, weight_decay=weight_decay)
    autoencoder_loss(ae, torch.tensor([[1.0, 2.0, 2.0, 4.0]], dtype=torch.float64), loss).backward()
    optimizer.step()
    return optimizer.state[ae.decoder.theta]["exp_avg"].item(), ae.decoder.theta.item()


def test_one_adam_step_with_sum_and_weight_decay_w_d_is_mean_with_w():
    # d/dtheta of sum (theta - 1)^2 x_i^2 = 2 (theta - 1) * 25 = -25; of the mean over D = 4: -6.25.
    # Adam adds weight_decay * theta = 0.5 * weight_decay to the gradient, and its first
    # moment after one step is 0.1 * gradient.
    exp_avg_sum, theta_sum = adam_step("sum", weight_decay=100.0)    # -25 + 50 = 25
    exp_avg_mean, theta_mean = adam_step("mean", weight_decay=25.0)  # -6.25 + 12.5 = 6.25 = 25 / D
    assert exp_avg_sum == pytest.approx(2.5, abs=1e-12)
    assert exp_avg_mean == pytest.approx(0.625, abs=1e-12)
    assert theta_sum == pytest.approx(theta_mean, abs=1e-9) == pytest.approx(0.49, abs=1e-9)  # lr * sign
    # the same weight decay under the mean acts D times stronger: -6.25 + 50 = 43.75, not 25 / 4
    exp_avg_same_wd, _ = adam_step("mean", weight_decay=100.0)
    assert exp_avg_same_wd == pytest.approx(4.375, abs=1e-12)


def train_tiny_autoencoder(loss: str, weight_decay: float) -> list[torch.Tensor]:
    torch.manual_seed(0)
    ae = Autoencoder(nn.Linear(6, 2, bias=False), nn.Linear(2, 6, bias=False)).double()
    x = torch.rand(16, 6, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    config = TrainConfig(lr=0.01, epochs=5, milestones=(), batch_size=8, weight_decay=weight_decay)
    train_network(ae, lambda a, xb: autoencoder_loss(a, xb, loss), [x], config, seed=0)
    return [p.detach().clone() for p in ae.parameters()]


def test_ten_adam_steps_of_sum_with_weight_decay_w_d_equal_mean_with_w():
    """Adam ignores the loss scale except through its epsilon: a tiny net, 10 steps, D = 6."""
    w, d = 0.05, 6
    mean = train_tiny_autoencoder("mean", w)
    assert all(torch.allclose(a, b, rtol=0, atol=1e-7) for a, b in zip(train_tiny_autoencoder("sum", w * d), mean))
    same_wd = train_tiny_autoencoder("sum", w)
    assert max((a - b).abs().max().item() for a, b in zip(same_wd, mean)) > 1e-4


def test_autoencoder_detector_refuses_an_unknown_loss():
    with pytest.raises(OcbenchError, match="^loss must be one of sum, mean, got 'l1'$"):
        AutoencoderDetector(loss="l1").fit(np.zeros((4, 1, 28, 28), dtype=np.float32))


# --------------------------------------------------------------------------- init: the reference's draws

def digest(tensor: torch.Tensor) -> dict:
    t = tensor.detach().to(torch.float32).contiguous()
    return {"shape": list(t.shape), "sha256": hashlib.sha256(t.numpy().tobytes()).hexdigest()}


def assert_matches_fixture(params: dict, entry: str) -> None:
    expected = FIXTURE["tensors"][entry]
    assert set(params) == set(expected), entry
    for key, value in params.items():
        got = digest(value)
        assert got["shape"] == expected[key]["shape"], key
        # first values in the message, should the bytes differ
        assert got["sha256"] == expected[key]["sha256"], \
            (key, value.flatten()[:4].tolist(), expected[key]["first"])
        assert value.double().sum().item() == pytest.approx(expected[key]["sum"], rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("reference, net", sorted(SEQUENCES))
def test_reference_init_draws_the_references_seed_1_weights(reference, net):
    network, autoencoder = build_network(net), build_autoencoder(net)
    apply_init(network, net, reference, SEED, "network")
    apply_init(autoencoder, net, reference, SEED, "autoencoder")
    assert_matches_fixture(dict(network.named_parameters()), f"{reference}/{net}/network")
    assert_matches_fixture(dict(autoencoder.named_parameters()), f"{reference}/{net}/autoencoder")


def test_every_lenet_of_every_reference_is_in_the_fixture():
    entries = {tuple(key.split("/")[:2]) for key in FIXTURE["tensors"]}
    assert entries == set(SEQUENCES)
    assert {net for _, net in entries if "_lenet" in net} == {"mnist_lenet", "fmnist_lenet", "cifar10_lenet",
                                                               "cifar10_lenet_elu"}


def test_default_autoencoder_starts_where_the_reference_network_does():
    """Why seed N differed: the references draw their network first, ocbench's default does not."""
    torch.manual_seed(SEED)
    encoder = dict(build_autoencoder("mnist_lenet").encoder.named_parameters())
    assert_matches_fixture(encoder, "deep_svdd/mnist_lenet/network")
    expected = FIXTURE["tensors"]["deep_svdd/mnist_lenet/autoencoder"]["encoder.conv1.weight"]["sha256"]
    assert digest(encoder["conv1.weight"])["sha256"] != expected


def test_reference_init_leaves_the_global_random_state_alone():
    autoencoder = build_autoencoder("mnist_lenet")  # its own default draws come first
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    apply_init(autoencoder, "mnist_lenet", "deep_svdd", 1, "autoencoder")
    assert torch.equal(torch.rand(3), expected)


def test_detectors_start_from_the_reference_weights(monkeypatch):
    import ocbench.detectors.deep as deep_module

    monkeypatch.setattr(deep_module, "train_network", lambda *args, **kwargs: [])  # keep the start
    x = np.random.default_rng(0).random((8, 1, 28, 28), dtype=np.float32)
    ae = AutoencoderDetector(net="mnist_lenet", init="reference", seed=SEED).fit(x)
    assert_matches_fixture(dict(ae.autoencoder_.named_parameters()), "deep_svdd/mnist_lenet/autoencoder")
    for detector in (DeepSVDD(net="mnist_lenet", init="deep_svdd", seed=SEED),
                     DeepSAD(net="fmnist_lenet", init="reference", seed=SEED)):
        detector.setup_network(x)
        assert_matches_fixture(dict(detector.network_.named_parameters()),
                               f"{reference_of(detector.init, detector.net)}/{detector.net}/network")


@pytest.mark.parametrize("init, net, fragments", [
    ("reference", "cifar10_lenet", ["initialise net 'cifar10_lenet' differently", "deep_svdd, deep_sad"]),
    ("deep_svdd", "fmnist_lenet", ["no net 'fmnist_lenet'", "mnist_lenet, cifar10_lenet"]),
    ("reference", "wbc_mlp", ["'wbc_mlp' is in no reference implementation"]),
    ("glorot", "mnist_lenet", ["unknown init 'glorot'", "default, reference, deep_svdd, deep_sad"]),
])
def test_init_without_a_reference_is_one_clear_line(init, net, fragments):
    with pytest.raises(OcbenchError) as err:
        reference_of(init, net)
    for fragment in fragments:
        assert fragment in str(err.value)


def minimal_config(**training):
    return {"methods": ["deep_svdd_oneclass", "cae"], "training": training,
            "datasets": {"mnist5k": {"normal_classes": [0], "net": "mnist_lenet"}}}


def test_config_hands_init_and_loss_to_the_autoencoder_and_the_network():
    config = load_and_validate(minimal_config(init="reference", autoencoder={"loss": "sum"}))
    assert autoencoder_params(config, "mnist5k")["loss"] == "sum"
    assert autoencoder_params(config, "mnist5k")["init"] == "reference"
    assert method_params(config, "mnist5k", "deep_svdd_oneclass")["init"] == "reference"
    defaults = load_and_validate(minimal_config())
    assert autoencoder_params(defaults, "mnist5k")["loss"] == "mean"
    assert autoencoder_params(defaults, "mnist5k")["init"] == "default"


def test_config_refuses_init_for_a_net_without_a_reference_before_any_job():
    config = minimal_config(init="reference")
    config["datasets"] = {"cifar10": {"normal_classes": [0], "net": "cifar10_lenet"}}
    with pytest.raises(OcbenchError, match=r"datasets\.cifar10 training\.init: .*name one: deep_svdd, deep_sad"):
        load_and_validate(config)
    config = minimal_config(autoencoder={"loss": "l1"})
    with pytest.raises(OcbenchError, match="training.autoencoder.loss"):
        load_and_validate(config)
    config = minimal_config(network={"loss": "sum"})  # the network has no reconstruction loss
    with pytest.raises(OcbenchError, match="'loss' was unexpected"):
        load_and_validate(config)


def test_a_dataset_may_name_its_own_reference_init():
    config = minimal_config(init="reference")
    config["datasets"] = {"cifar10": {"normal_classes": [0], "training": {"init": "deep_svdd"}}}
    config = load_and_validate(config)
    assert autoencoder_params(config, "cifar10")["init"] == "deep_svdd"
    assert method_params(config, "cifar10", "deep_svdd_oneclass")["init"] == "deep_svdd"


def test_config_refuses_a_missing_mirror_before_any_job(tmp_path):
    config = minimal_config()
    config["datasets"]["mnist5k"]["mirror"] = str(tmp_path / "nowhere")
    with pytest.raises(OcbenchError, match=r"datasets\.mnist5k\.mirror: folder .*nowhere does not exist"):
        load_and_validate(config)


def fidelity_experiment(name: str, tmp_path) -> dict:
    """A fidelity experiment's config, validated: Fashion-MNIST from the Debian mirror,
    every class normal in turn, seeds 1-5, the whole test split scored (as the references)."""
    import yaml

    config = yaml.safe_load((ROOT / "workflow" / "experiments" / name).read_text())
    dataset = config["datasets"]["fmnist"]
    assert dataset["mirror"] == "/usr/share/datasets/fashion-mnist"
    assert config["seeds"] == [1, 2, 3, 4, 5] and dataset["normal_classes"] == list(range(10))
    # validated without the Debian package: the config check looks at the files' names only
    from ocbench.data.images.idx import IDX_CONTENT

    for file in IDX_CONTENT["fmnist"]:
        (tmp_path / f"{file}.gz").write_bytes(b"")
    dataset["mirror"] = str(tmp_path)
    config = load_and_validate(config)
    assert config["validation_fraction"] == 0
    return config


def test_the_fidelity_experiment_is_the_reference_recipe(tmp_path):
    config = fidelity_experiment("fidelity_fmnist.yaml", tmp_path)
    dataset = config["datasets"]["fmnist"]
    assert (dataset["net"], dataset["preprocessing"]) == ("mnist_lenet", "gcn_minmax")
    assert autoencoder_params(config, "fmnist") == {"lr": 1e-4, "epochs": 50, "milestones": [40], "batch_size": 200,
                                                   "weight_decay": 0.5e-3, "amsgrad": False, "drop_last": False,
                                                   "loss": "sum", "init": "deep_svdd"}
    network = method_params(config, "fmnist", "deep_svdd_oneclass")
    assert network == {"lr": 1e-4, "epochs": 50, "milestones": [40], "batch_size": 200, "weight_decay": 0.5e-6,
                       "amsgrad": False, "drop_last": False, "init": "deep_svdd"}


def test_the_schema_offers_the_choices_the_code_knows():
    from ocbench.config.schema import effective_schema
    from ocbench.detectors.params import AUTOENCODER_LOSSES
    from ocbench.nets.reference_init import INITS

    defs = effective_schema()["$defs"]
    assert tuple(defs["init"]["enum"]) == INITS
    assert tuple(defs["autoencoder_settings"]["properties"]["loss"]["enum"]) == AUTOENCODER_LOSSES


def test_the_deep_sad_fidelity_experiment_is_the_deep_sad_reference_recipe(tmp_path):
    from ocbench.config.names import grid_settings

    config = fidelity_experiment("fidelity_fmnist_deep_sad.yaml", tmp_path)
    dataset = config["datasets"]["fmnist"]
    assert (dataset["net"], dataset["preprocessing"]) == ("fmnist_lenet", "unit")
    assert config["methods"] == ["deep_sad"] and config["training"]["pretrain"] is False
    # the Deep SAD README's recipe, dropping the last partial batch as the reference's training loader
    assert method_params(config, "fmnist", "deep_sad") == {"lr": 1e-4, "epochs": 150, "milestones": [50],
                                                          "batch_size": 128, "weight_decay": 0.5e-6, "amsgrad": False,
                                                          "drop_last": True, "init": "deep_sad", "eta": 1.0}
    # the known anomaly class of normal class c is (c + 1) mod 10, as the reference draws it
    assert [grid_settings(config, "fmnist", "gamma_l_0.01", c) for c in range(10)] == \
        [[f"gamma_l_0.01.k{(c + 1) % 10}"] for c in range(10)]
