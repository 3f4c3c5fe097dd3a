"""GTSRB stop signs against adversarial examples (docs/settings.md).

A tiny synthetic GTSRB, written by the test in GTSRB's folder and annotation layout
(coloured shapes on noise, a border around each sign as GTSRB has), goes through the
whole chain offline: prepared by the ``gtsrb`` source (cropped by the annotation boxes),
a classifier trained on every class, the L∞ PGD attack, the split and the run data.
Also the 8-bit storage of the attacked images, the file layout, the config checks and
the preset's dry run.
"""
import copy
import csv
import inspect
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from ocbench import paths
from ocbench.config import load_and_validate, runs, split_params
from ocbench.data import load_run_data
from ocbench.data.adversarial import (attack_name, attacked_images_path, classifier_path, craft_attacked_images,
                                      make_attack_split, predict_classes, to_8bit_within, to_unit_tensor,
                                      train_classifier)
from ocbench.data.pgd import pgd_attack
from ocbench.data.images.gtsrb import GTSRB_ARCHIVES, GTSRB_STOP_SIGN, GTSRB_URL, check_gtsrb_mirror, gtsrb_folders
from ocbench.data.prepared import save_npz
from ocbench.data.registry import DATASETS
from ocbench.errors import OcbenchError
from ocbench.training import ATTACK_START_STREAM, TrainConfig, seed_stream

from helpers.config_checks import fails
from helpers.paths import ROOT
from helpers.workflow import snakemake_with_configfile

PRESET = ROOT / "workflow" / "experiments" / "deep_svdd_icml2018.yaml"
HEADER = ["Filename", "Width", "Height", "Roi.X1", "Roi.Y1", "Roi.X2", "Roi.Y2", "ClassId"]
#: class -> (colour, shape) of the synthetic signs; 14 is GTSRB's stop sign
SIGNS = {1: ((200, 50, 40), "square"), 14: ((220, 30, 30), "disk"), 33: ((210, 40, 50), "triangle")}
ATTACK = {"epsilon": 0.15, "step_size": 0.03, "steps": 20, "attacked": None}


# --------------------------------------------------------------------------- a tiny GTSRB on disk

def sign_image(rng, cls):
    """One picture: noise, and the class's shape inside a box that leaves a border of 3-6 pixels."""
    from PIL import Image, ImageDraw

    side = int(rng.integers(26, 40))
    width, height = side + int(rng.integers(-3, 4)), side
    pixels = rng.integers(0, 90, (height, width, 3), dtype=np.uint8)
    image = Image.fromarray(pixels)
    x1, y1 = int(rng.integers(3, 7)), int(rng.integers(3, 7))
    x2, y2 = width - int(rng.integers(3, 7)), height - int(rng.integers(3, 7))
    colour, shape = SIGNS[cls]
    colour = tuple(int(np.clip(c + rng.integers(-20, 21), 0, 255)) for c in colour)
    draw = ImageDraw.Draw(image)
    if shape == "square":
        draw.rectangle((x1, y1, x2 - 1, y2 - 1), fill=colour)
    elif shape == "disk":
        draw.ellipse((x1, y1, x2 - 1, y2 - 1), fill=colour)
    else:
        draw.polygon([(x1, y2 - 1), (x2 - 1, y2 - 1), ((x1 + x2) // 2, y1)], fill=colour)
    return image, (x1, y1, x2, y2)


def write_rows(path, rows):
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(HEADER)
        writer.writerows(rows)


def write_tiny_gtsrb(raw_dir, per_class_train=24, per_class_test=8, seed=0):
    """GTSRB's layout (torchvision's ``GTSRB`` root): ``gtsrb/GTSRB/Training/000cc/`` with ``GT-000cc.csv``,
    ``gtsrb/GTSRB/Final_Test/Images/`` and ``gtsrb/GT-final_test.csv``; returns the test classes in file order."""
    rng = np.random.default_rng(seed)
    train_folder, test_folder, test_annotations = gtsrb_folders(Path(raw_dir))
    for cls in SIGNS:
        folder = train_folder / f"{cls:05d}"
        folder.mkdir(parents=True)
        rows = []
        for i in range(per_class_train):
            image, box = sign_image(rng, cls)
            name = f"{i // 6:05d}_{i % 6:05d}.ppm"
            image.save(folder / name)
            rows.append([name, image.width, image.height, *box, cls])
        write_rows(folder / f"GT-{cls:05d}.csv", rows)
    test_folder.mkdir(parents=True)
    classes = [cls for cls in SIGNS for _ in range(per_class_test)]
    classes = [classes[i] for i in rng.permutation(len(classes))]
    rows = []
    for i, cls in enumerate(classes):
        image, box = sign_image(rng, cls)
        image.save(test_folder / f"{i:05d}.ppm")
        rows.append([f"{i:05d}.ppm", image.width, image.height, *box, cls])
    write_rows(test_annotations, rows)
    return classes


@pytest.fixture(scope="module")
def tiny_gtsrb(tmp_path_factory):
    raw_dir = tmp_path_factory.mktemp("raw")
    test_classes = write_tiny_gtsrb(raw_dir)
    return raw_dir, test_classes, DATASETS["gtsrb"].prepare(raw_dir)


@pytest.fixture(scope="module")
def classifier(tiny_gtsrb):
    _, _, prepared = tiny_gtsrb
    config = TrainConfig(lr=3e-3, epochs=15, milestones=(), batch_size=16, weight_decay=0.0)
    return train_classifier(prepared["x_train"], prepared["y_train"], seed=1, config=config, n_classes=43)


# --------------------------------------------------------------------------- the source

def test_prepare_reads_the_layout_torchvision_reads(tiny_gtsrb):
    from torchvision.datasets import GTSRB

    raw_dir, test_classes, prepared = tiny_gtsrb
    assert prepared["x_train"].shape == (3 * 24, 3, 32, 32) and prepared["x_train"].dtype == np.uint8
    assert prepared["x_test"].shape == (3 * 8, 3, 32, 32)
    # classes from the annotation files: folder order for training, the csv's order for test
    np.testing.assert_array_equal(prepared["y_train"], np.repeat([1, 14, 33], 24))
    np.testing.assert_array_equal(prepared["y_test"], test_classes)
    # torchvision's own class finds the same images in the same folders
    assert len(GTSRB(str(raw_dir), split="train")) == 3 * 24
    test_set = GTSRB(str(raw_dir), split="test")
    assert [target for _, target in test_set._samples] == test_classes


def test_a_sign_is_cropped_by_its_box_columns_x_rows_y(tmp_path):
    """A wide picture, blue outside the box and red inside: the crop holds only red. With x and y
    swapped (the Deep SVDD reference's slicing) it would take blue rows and columns."""
    from PIL import Image

    from ocbench.data.images.gtsrb import gtsrb_crop

    pixels = np.zeros((30, 44, 3), dtype=np.uint8)
    pixels[...] = (0, 0, 255)
    pixels[3:27, 12:40] = (255, 0, 0)  # rows 3-26, columns 12-39
    Image.fromarray(pixels).save(tmp_path / "sign.ppm")
    crop = gtsrb_crop(tmp_path / "sign.ppm", {"Roi.X1": "12", "Roi.Y1": "3", "Roi.X2": "40", "Roi.Y2": "27"})
    assert crop.shape == (3, 32, 32)
    np.testing.assert_array_equal(crop[0], 255)
    np.testing.assert_array_equal(crop[2], 0)


@pytest.mark.parametrize("missing", ["test", "training"])
def test_gtsrb_without_its_annotation_files_is_one_line(tmp_path, missing):
    write_tiny_gtsrb(tmp_path, per_class_train=2, per_class_test=1)
    train_folder, _, test_annotations = gtsrb_folders(tmp_path)
    gone = test_annotations if missing == "test" else train_folder / "00014" / "GT-00014.csv"
    gone.unlink()
    with pytest.raises(OcbenchError) as err:
        DATASETS["gtsrb"].prepare(tmp_path)
    message = str(err.value)
    assert "\n" not in message and f"annotation file {gone} is missing" in message
    assert "GT-final_test.csv (GTSRB_Final_Test_GT.zip)" in message


def test_a_mirror_without_the_annotation_archive_is_refused_before_any_job(tmp_path):
    for name in GTSRB_ARCHIVES:
        if name != "GTSRB_Final_Test_GT.zip":
            (tmp_path / name).write_bytes(b"")
    with pytest.raises(OcbenchError, match="has no GTSRB_Final_Test_GT.zip \\(the annotation file of the test set"):
        check_gtsrb_mirror(tmp_path)
    config = {"methods": ["isoforest"], "settings": {"adv": {"attack": dict(ATTACK)}},
              "datasets": {"gtsrb": {"normal_classes": [14], "mirror": str(tmp_path)}}}
    fails(config, "config datasets.gtsrb.mirror:", "GTSRB_Final_Test_GT.zip")


def test_a_mirror_archive_is_checked_by_torchvisions_md5(tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for name in GTSRB_ARCHIVES:
        (mirror / name).write_bytes(b"not the archive")
    with pytest.raises(OcbenchError, match="is not torchvision's GTSRB-Training_fixed.zip .*expected "
                                           "513f3c79a4c5141765e10e952eaa2478"):
        DATASETS["gtsrb"].fetch(tmp_path / "raw", mirror)


def test_a_mirror_of_the_three_archives_is_unpacked_where_torchvision_looks(tiny_gtsrb, tmp_path, monkeypatch):
    """The tiny GTSRB zipped as torchvision's three archives (their md5 sums pinned for the test):
    fetched from the mirror, it prepares to the same arrays; a second fetch keeps the files."""
    import zipfile

    from ocbench.data.images import gtsrb
    from ocbench.files import md5_file

    raw_dir, _, prepared = tiny_gtsrb
    base, mirror = raw_dir / "gtsrb", tmp_path / "mirror"
    mirror.mkdir()
    members = {"GTSRB-Training_fixed.zip": sorted((base / "GTSRB" / "Training").rglob("*.*")),
               "GTSRB_Final_Test_Images.zip": sorted((base / "GTSRB" / "Final_Test").rglob("*.*")),
               "GTSRB_Final_Test_GT.zip": [base / "GT-final_test.csv"]}
    for name, files in members.items():
        with zipfile.ZipFile(mirror / name, "w") as archive:
            for file in files:
                archive.write(file, file.relative_to(base).as_posix())
    monkeypatch.setattr(gtsrb, "GTSRB_ARCHIVES", {name: md5_file(mirror / name) for name in members})
    fetched = tmp_path / "raw"
    DATASETS["gtsrb"].fetch(fetched, mirror)
    again = DATASETS["gtsrb"].prepare(fetched)
    for key, value in prepared.items():
        np.testing.assert_array_equal(again[key], value)
    marker = fetched / "gtsrb" / "GT-final_test.csv"
    before = marker.stat().st_mtime_ns
    DATASETS["gtsrb"].fetch(fetched, mirror)  # verified and unpacked already: nothing is written again
    assert marker.stat().st_mtime_ns == before


def test_the_archives_are_torchvisions():
    from torchvision.datasets import GTSRB

    source = inspect.getsource(GTSRB.download)
    assert GTSRB_URL in source
    for name, md5 in GTSRB_ARCHIVES.items():
        assert f'{name}",' in source and f'md5="{md5}"' in source


# --------------------------------------------------------------------------- classifier and attack

def test_the_classifier_learns_the_tiny_gtsrb(classifier, tiny_gtsrb):
    network, accuracy = classifier
    _, _, prepared = tiny_gtsrb
    assert accuracy >= 0.95
    assert accuracy == float((predict_classes(network, to_unit_tensor(prepared["x_train"])) ==
                              prepared["y_train"]).mean())


def test_the_classifier_is_the_same_for_the_same_seed(tiny_gtsrb):
    _, _, prepared = tiny_gtsrb
    config = TrainConfig(lr=3e-3, epochs=1, milestones=(), batch_size=16, weight_decay=0.0)
    first, second, other = (train_classifier(prepared["x_train"], prepared["y_train"], seed=seed, config=config)[0]
                            for seed in (4, 4, 5))
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), second.state_dict().values()))
    assert not torch.equal(first[0].weight, other[0].weight)


def test_the_attack_changes_most_decisions_within_epsilon_and_the_unit_range(classifier, tiny_gtsrb):
    network, _ = classifier
    _, _, prepared = tiny_gtsrb
    stop = prepared["y_test"] == GTSRB_STOP_SIGN
    x, y = to_unit_tensor(prepared["x_test"][stop]), torch.from_numpy(prepared["y_test"][stop])
    attacked = pgd_attack(network, x, y, ATTACK["epsilon"], ATTACK["step_size"], ATTACK["steps"], seed=1)
    assert (attacked - x).abs().max().item() <= ATTACK["epsilon"] + 1e-6
    assert attacked.min().item() >= 0 and attacked.max().item() <= 1
    before, after = predict_classes(network, x), predict_classes(network, attacked)
    assert (before == GTSRB_STOP_SIGN).mean() >= 0.9  # the classifier knows the clean stop signs
    assert (after != before).mean() > 0.5
    again = pgd_attack(network, x, y, ATTACK["epsilon"], ATTACK["step_size"], ATTACK["steps"], seed=1)
    assert torch.equal(attacked, again)  # deterministic with the seed


def test_the_random_start_is_a_stream_of_its_own_not_the_one_that_drew_the_classifier():
    """The start's noise comes from ``seed_stream(seed, ATTACK_START_STREAM)``, not from the
    stream ``torch.manual_seed(seed)`` starts, which drew the classifier's weights from the
    same seed. A classifier with zero weights has no gradient, so the attack stays where it
    started and the start can be read off."""
    seed, epsilon, shape = 4, 0.1, (3, 1, 4, 4)
    network = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 2))
    torch.nn.init.zeros_(network[1].weight)
    torch.nn.init.zeros_(network[1].bias)
    x = torch.full(shape, 0.5)  # 0.5 ± 0.1 stays in [0, 1]: nothing is clipped
    start = pgd_attack(network, x, torch.zeros(3, dtype=torch.long), epsilon, 0.01, 2, seed=seed) - x
    expected = (torch.rand(shape, generator=seed_stream(seed, ATTACK_START_STREAM)) * 2 - 1) * epsilon
    torch.testing.assert_close(start, expected)
    torch.manual_seed(seed)  # the weights' stream
    assert not torch.allclose(start, (torch.rand(shape) * 2 - 1) * epsilon)


def test_the_stored_attacked_images_stay_within_epsilon(classifier, tiny_gtsrb):
    network, _ = classifier
    _, _, prepared = tiny_gtsrb
    arrays = craft_attacked_images(network, prepared, ATTACK, seed=1)
    stored, original = arrays["x_test"].astype(np.float64) / 255, prepared["x_test"].astype(np.float64) / 255
    assert arrays["x_test"].dtype == np.uint8 and arrays["x_test"].shape == prepared["x_test"].shape
    assert np.abs(stored - original).max() <= ATTACK["epsilon"] + 1e-6
    info = json.loads(str(arrays["info"]))
    changed = arrays["predicted_attacked"] != arrays["predicted_clean"]
    assert info["changed_decisions"] == changed.mean() > 0.5
    np.testing.assert_array_equal(arrays["y_test"], prepared["y_test"])


def test_eight_bit_storage_worked_by_hand():
    original = np.array([100, 100, 0, 255], dtype=np.uint8)
    # 255 * 7.99/255 = 7.99: a budget of 7 levels; 0.43 * 255 = 109.65 rounds to 110, clipped to 107
    attacked = np.array([0.43, 96.2 / 255, 0.02, 0.99])
    np.testing.assert_array_equal(to_8bit_within(attacked, original, 7.99 / 255), [107, 96, 5, 252])


@pytest.mark.parametrize("attack, fragment", [
    ({"epsilon": 0, "step_size": 0.01, "steps": 5}, "epsilon: 0 is not allowed"),
    ({"epsilon": -0.1, "step_size": 0.01, "steps": 5}, "epsilon: -0.1 is not allowed"),
    ({"epsilon": 0.03, "step_size": 0.01, "steps": 0}, "steps: 0 is not allowed; allowed: an integer >= 1"),
])
def test_the_attack_refuses_a_bad_budget(attack, fragment):
    network = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3, 2))
    with pytest.raises(OcbenchError, match=fragment):
        pgd_attack(network, torch.zeros(1, 3, 1, 1), torch.zeros(1, dtype=torch.long), **attack)


# --------------------------------------------------------------------------- the split and the run data

def tiny_prepared(seed=0):
    """Classes 13, 14, 15: 4, 5, 3 training and 3, 4, 2 test images of 3×2×2."""
    rng = np.random.default_rng(seed)
    y_train, y_test = np.repeat([13, 14, 15], [4, 5, 3]), np.repeat([13, 14, 15], [3, 4, 2])
    return {"x_train": rng.integers(0, 256, (12, 3, 2, 2), dtype=np.uint8), "y_train": y_train,
            "x_test": rng.integers(0, 256, (9, 3, 2, 2), dtype=np.uint8), "y_test": y_test}


def test_split_normal_stop_signs_and_attacked_stop_signs_only():
    prepared = tiny_prepared()
    split = make_attack_split(prepared, "gtsrb", [14], 3, prepared["y_test"], {**ATTACK, "attacked": 2}, "abc")
    np.testing.assert_array_equal(split["train_idx"], [4, 5, 6, 7, 8])  # the stop signs of the training set
    assert (split["train_class"] == 14).all() and not split["train_semi"].any()
    # test: the 4 stop signs (label 0), then attacked copies of 2 of them (label 1)
    np.testing.assert_array_equal(split["test_idx"][:4], [3, 4, 5, 6])
    np.testing.assert_array_equal(split["test_label"], [0, 0, 0, 0, 1, 1])
    np.testing.assert_array_equal(split["test_source"], split["test_label"])
    assert set(split["test_idx"][4:]) <= {3, 4, 5, 6} and len(set(split["test_idx"][4:])) == 2
    assert (split["test_class"] == 14).all()
    info = json.loads(split["info"])
    assert (info["n_train"], info["n_test_normal"], info["n_test_anomaly"]) == (5, 4, 2)
    assert info["attacked_sha256"] == "abc" and info["attacked_images"] == attack_name(ATTACK)
    again = make_attack_split(prepared, "gtsrb", [14], 3, prepared["y_test"], {**ATTACK, "attacked": 2}, "abc")
    np.testing.assert_array_equal(again["test_idx"], split["test_idx"])  # drawn by seed
    every = make_attack_split(prepared, "gtsrb", [14], 3, prepared["y_test"], ATTACK, "abc")
    np.testing.assert_array_equal(every["test_idx"], [3, 4, 5, 6, 3, 4, 5, 6])  # attacked: null, all of them


def test_split_refuses_more_attacked_images_than_stop_signs_and_another_file():
    prepared = tiny_prepared()
    with pytest.raises(OcbenchError, match="attack.attacked 5 exceeds the 4 test images of the normal classes"):
        make_attack_split(prepared, "gtsrb", [14], 1, prepared["y_test"], {**ATTACK, "attacked": 5}, "abc")
    with pytest.raises(OcbenchError, match="were made from another prepared file"):
        make_attack_split(prepared, "gtsrb", [14], 1, prepared["y_test"][::-1], ATTACK, "abc")


def test_the_run_reads_the_attacked_images_the_split_was_drawn_for(tmp_path):
    from ocbench.jobs.data_jobs import split as split_job

    prepared = tiny_prepared()
    prepared_path = tmp_path / "data" / "prepared" / "gtsrb.npz"
    save_npz(prepared, prepared_path)
    attacked = {**prepared, "x_test": 255 - prepared["x_test"]}
    save_npz({"x_test": attacked["x_test"], "y_test": prepared["y_test"]},
             attacked_images_path(prepared_path, 2, ATTACK))
    params = {"ratio_known_normal": 0, "ratio_known_outlier": 0, "ratio_pollution": 0, "known_outlier_class": None,
              "n_known_outlier_classes": 0, "validation_fraction": 0.0, "attack": {**ATTACK, "attacked": 3}}
    split_path = tmp_path / "split.npz"
    split_job("gtsrb", prepared_path, [14], 2, params, split_path)
    data = load_run_data(prepared_path, split_path, "unit", cache=False)
    index = data.test_index
    np.testing.assert_array_equal(data.x_test[:4] * 255, prepared["x_test"][index[:4]])
    np.testing.assert_allclose(data.x_test[4:] * 255, 255 - prepared["x_test"][index[4:]], atol=1e-4)
    # other attacked images in the file than the split was drawn for: one line, not a silent mix
    save_npz({"x_test": prepared["x_test"], "y_test": prepared["y_test"]},
             attacked_images_path(prepared_path, 2, ATTACK))
    with pytest.raises(OcbenchError, match="was drawn for other attacked images .* make the split again"):
        load_run_data(prepared_path, split_path, "unit", cache=False)


def test_the_files_lie_where_the_workflow_puts_them():
    prepared = paths.prepared_file("data", "gtsrb")
    assert attack_name(ATTACK) == "pgd_eps0.15_step0.03_steps20"
    assert attack_name({"epsilon": 0.0314, "step_size": 0.0078, "steps": 10}) == "pgd_eps0.0314_step0.0078_steps10"
    assert attacked_images_path(prepared, 3, ATTACK) == Path(
        paths.under("data", paths.ATTACKED).format(dataset="gtsrb", seed=3, attack=attack_name(ATTACK)))
    assert classifier_path(prepared, 3) == Path("data/adversarial/gtsrb/seed3/classifier.pt")


# --------------------------------------------------------------------------- config checks

def attack_config(**attack):
    return {"methods": ["isoforest", "deep_svdd_oneclass"], "seeds": [1, 2],
            "settings": {"adv": {"attack": {**ATTACK, **attack}}},
            "datasets": {"gtsrb": {"normal_classes": [14]}}}


def test_a_config_with_an_attack_makes_one_split_per_seed():
    config = load_and_validate(attack_config(attacked=20))
    assert {(r.dataset, r.setting, r.normal) for r in runs(config)} == {("gtsrb", "adv", "14")}
    assert split_params(config, "adv")["attack"] == {**ATTACK, "attacked": 20}
    assert config["training"]["classifier"]["epochs"] == 10 and config["training"]["classifier"]["device"] == "cpu"


@pytest.mark.parametrize("attack, fragments", [
    ({"epsilon": 0}, ["config settings.adv.attack.epsilon: 0 is less than or equal to the minimum of 0"]),
    ({"epsilon": -0.5}, ["settings.adv.attack.epsilon: -0.5"]),
    ({"steps": 0}, ["config settings.adv.attack.steps: 0 is less than the minimum of 1"]),
    ({"step_size": 0}, ["settings.adv.attack.step_size: 0"]),
    ({"epsilon": 0.002}, ["attack.epsilon: 0.002 is below one level of an 8-bit image", "allowed:"]),
])
def test_a_bad_attack_is_one_line_before_any_job(attack, fragments):
    fails(attack_config(**attack), *fragments)


def test_an_attack_with_other_anomalies_is_one_line():
    config = attack_config()
    config["settings"]["adv"].update(ratio_known_outlier=0.1, n_known_outlier_classes=1)
    fails(config, "ratio_known_outlier is 0.1 but a setting with an attack is unsupervised")
    config = attack_config()
    config["settings"]["adv"]["anomaly_datasets"] = ["cifar10"]
    fails(config, "from an attack or from anomaly_datasets, not both")
    config = attack_config()
    config["datasets"] = {"wbc": {}}
    fails(config, "an attack needs an image dataset, but 'wbc' is tabular")


def test_every_class_may_be_normal_against_attacked_images():
    config = attack_config()
    config["datasets"] = {"mnist5k": {"normal_classes": ["all"]}}
    assert load_and_validate(config)["datasets"]["mnist5k"]["normal_classes"] == [list(range(10))]


# --------------------------------------------------------------------------- the preset and the workflow

def test_the_preset_runs_the_papers_gtsrb_column():
    config = load_and_validate(copy.deepcopy(yaml.safe_load(PRESET.read_text())))
    gtsrb = config["datasets"]["gtsrb"]
    assert gtsrb["normal_classes"] == [GTSRB_STOP_SIGN] and gtsrb["net"] == "cifar10_lenet"
    setting = config["settings"][gtsrb["settings"][0]]
    assert setting["attack"]["attacked"] == 20  # 270 stop signs and 20 adversarial examples, as in the paper
    methods = {r.method for r in runs(config) if r.dataset == "gtsrb"}
    assert methods == {"deep_svdd_oneclass", "deep_svdd_softboundary", "cae", "ocsvm", "isoforest", "kde"}
    assert {r.seed for r in runs(config) if r.dataset == "gtsrb"} == set(range(1, 11))


def job_counts(result):
    return {line.split()[0]: int(line.split()[1]) for line in (result.stdout + result.stderr).splitlines()
            if len(line.split()) == 2 and line.split()[1].isdigit()}


@pytest.mark.workflow
def test_preset_dry_run_offline(tmp_path):
    result = snakemake_with_configfile(tmp_path, PRESET, "--dry-run", "--quiet", "rules")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    counts = job_counts(result)
    assert counts["train_classifier"] == counts["attack"] == 10  # one classifier and one attack per seed
    assert counts["split"] == 2 * 10 * 10 + 10  # mnist and cifar10: 10 classes x 10 seeds; gtsrb: 10 seeds
    assert counts["fetch"] == counts["prepare"] == 3
    assert not (tmp_path / "data").exists()


TINY = {
    "seeds": [1],
    "methods": ["isoforest"],
    "training": {"classifier": {"epochs": 1}},
    "settings": {"adv": {"attack": {"epsilon": 0.0314, "step_size": 0.0078, "steps": 3, "attacked": 30}}},
    "extremes_seeds": [],
    "datasets": {"mnist5k": {"normal_classes": [3], "settings": ["adv"]}},
}


@pytest.mark.workflow
def test_mnist5k_against_its_attacked_digits_end_to_end(tmp_path):
    configfile = tmp_path / "config.yaml"
    configfile.write_text(yaml.safe_dump(TINY))
    result = snakemake_with_configfile(tmp_path, configfile, "--cores", "1")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    attacked = np.load(tmp_path / "data/adversarial/mnist5k/seed1/pgd_eps0.0314_step0.0078_steps3.npz")
    assert attacked["x_test"].shape == (1000, 1, 28, 28)
    prepared = np.load(tmp_path / "data/prepared/mnist5k.npz")
    budget = np.abs(attacked["x_test"].astype(int) - prepared["x_test"].astype(int)).max()
    assert 0 < budget <= 8  # floor(255 * 0.0314) levels
    metrics = json.loads((tmp_path / "results/runs/mnist5k/adv/3/seed1/isoforest/cpu/metrics.json").read_text())
    assert metrics["status"] == "ok" and 0 <= metrics["auroc"] <= 100
    split = np.load(tmp_path / "results/splits/mnist5k/adv/3/seed1.npz")
    assert (split["test_label"] == 1).sum() == 30 and (split["test_label"] == 0).sum() == 100
