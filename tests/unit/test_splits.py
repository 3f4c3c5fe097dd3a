"""Splits: hand-worked counts, disjoint groups, determinism, the tabular 60/40 split, every error,
the split file, and ``load_run_data`` joining a prepared file, a split and a preprocessing."""
import json

import numpy as np
import pytest

from ocbench.data import RunData, load_run_data
from ocbench.data.prepared import save_npz
from ocbench.data.splits import load_split, make_split, save_split, semisupervised_counts
from ocbench.errors import OcbenchError


def image_prepared(n_normal=1000, n_per_outlier_class=200, n_classes=5):
    """Labels only matter to the split: class 0 has n_normal training images, the others fewer."""
    y_train = np.concatenate([np.zeros(n_normal, dtype=np.int64)]
                             + [np.full(n_per_outlier_class, c, dtype=np.int64) for c in range(1, n_classes)])
    y_test = np.repeat(np.arange(n_classes, dtype=np.int64), 10)
    return {"x_train": np.zeros((len(y_train), 1, 2, 2), np.uint8), "y_train": y_train,
            "x_test": np.zeros((len(y_test), 1, 2, 2), np.uint8), "y_test": y_test}


def tabular_prepared(n=100, n_outliers=20):
    rng = np.random.default_rng(5)
    y = np.zeros(n, dtype=np.int64)
    y[rng.choice(n, n_outliers, replace=False)] = 1
    return {"x": rng.normal(size=(n, 3)), "y": y}


def groups(split):
    semi, cls = split["train_semi"], split["train_class"]
    normal = np.isin(cls, json.loads(split["info"])["normal_classes"])
    return {"known_normal": int(((semi == 1)).sum()), "unlabeled_normal": int(((semi == 0) & normal).sum()),
            "unlabeled_outlier": int(((semi == 0) & ~normal).sum()), "known_outlier": int((semi == -1).sum())}


# --------------------------------------------------------------------------- the equations

def test_counts_hand_worked():
    # n_normal = 1000, r_n = 0, r_o = 0.05, r_p = 0.1:
    #   known normal = r_n·N = 0, so unlabeled normal = 1000;
    #   unlabeled outlier = r_p/(1 − r_p)·1000 = 111.1 -> 111;
    #   N = 1000 + 111.1 + 0.05·N  =>  N = 1111.1/0.95 = 1169.59, known outlier = 0.05·N = 58.48 -> 58.
    assert semisupervised_counts(1000, 0.0, 0.05, 0.1) == {
        "known_normal": 0, "unlabeled_normal": 1000, "unlabeled_outlier": 111, "known_outlier": 58}
    # n_normal = 100, r_n = 0.1 and nothing else: N = 100, known normal = 10, unlabeled normal = 90.
    assert semisupervised_counts(100, 0.1, 0.0, 0.0) == {
        "known_normal": 10, "unlabeled_normal": 90, "unlabeled_outlier": 0, "known_outlier": 0}
    # One-class: every normal sample, unlabeled.
    assert semisupervised_counts(7, 0.0, 0.0, 0.0)["unlabeled_normal"] == 7


def test_counts_without_non_negative_solution():
    # r_n + r_o > 1: known normal 1200 > n_normal, so unlabeled normal would be -200.
    with pytest.raises(OcbenchError, match="negative counts.*unlabeled_normal -200"):
        semisupervised_counts(1000, 0.6, 0.5, 0.0)


def test_split_counts_match_the_equations():
    split = make_split(image_prepared(), "image", [0], seed=1, ratio_known_outlier=0.05, ratio_pollution=0.1,
                       known_outlier_class=1, n_known_outlier_classes=1)
    assert groups(split) == {"known_normal": 0, "unlabeled_normal": 1000, "unlabeled_outlier": 111,
                             "known_outlier": 58}
    info = json.loads(split["info"])
    assert info["n_known_outlier"] == 58 and info["n_unlabeled_outlier"] == 111 and info["n_train"] == 1169
    assert info["known_outlier_classes"] == [1] and info["ratio_pollution"] == 0.1
    assert (split["train_class"][split["train_semi"] == -1] == 1).all()
    # Test = the whole official test set, label 1 for every class that is not normal.
    np.testing.assert_array_equal(split["test_idx"], np.arange(50))
    np.testing.assert_array_equal(split["test_label"], (split["test_class"] != 0).astype(int))
    for key in ("train_idx", "train_semi", "train_class", "test_idx", "test_label", "test_class"):
        assert split[key].dtype == np.int64


def test_known_and_unlabeled_outliers_are_disjoint():
    # One outlier class of 200 samples: 58 known + 111 unlabeled outliers. Drawn independently
    # (the reference's defect), about 32 samples would be in both groups.
    prepared = image_prepared(n_classes=2)
    split = make_split(prepared, "image", [0], seed=3, ratio_known_outlier=0.05, ratio_pollution=0.1,
                       known_outlier_class=1, n_known_outlier_classes=1)
    assert len(np.unique(split["train_idx"])) == len(split["train_idx"]) == 1169
    known = split["train_idx"][split["train_semi"] == -1]
    unlabeled_outliers = split["train_idx"][(split["train_semi"] == 0) & (split["train_class"] == 1)]
    assert len(known) == 58 and len(unlabeled_outliers) == 111
    assert not np.intersect1d(known, unlabeled_outliers).size
    np.testing.assert_array_equal(prepared["y_train"][split["train_idx"]], split["train_class"])


def test_known_normals_and_several_known_classes():
    split = make_split(image_prepared(), "image", [0], seed=2, ratio_known_normal=0.05, ratio_known_outlier=0.01,
                       ratio_pollution=0.1, n_known_outlier_classes=2)
    counts = semisupervised_counts(1000, 0.05, 0.01, 0.1)
    assert groups(split) == counts
    known_classes = json.loads(split["info"])["known_outlier_classes"]
    assert len(known_classes) == 2 and set(known_classes) <= {1, 2, 3, 4}
    assert set(split["train_class"][split["train_semi"] == -1]) <= set(known_classes)
    assert (split["train_class"][split["train_semi"] == 1] == 0).all()


def test_one_class_setting_is_all_normal_training_samples():
    prepared = image_prepared()
    for seed in (0, 9):
        split = make_split(prepared, "image", [0, 2], seed=seed)
        np.testing.assert_array_equal(split["train_idx"], np.flatnonzero(np.isin(prepared["y_train"], [0, 2])))
        assert (split["train_semi"] == 0).all()
        np.testing.assert_array_equal(split["test_label"], (~np.isin(split["test_class"], [0, 2])).astype(int))


def test_determinism():
    prepared = image_prepared()
    kwargs = dict(ratio_known_normal=0.05, ratio_known_outlier=0.01, ratio_pollution=0.1, n_known_outlier_classes=1)
    first, again = (make_split(prepared, "image", [0], seed=4, **kwargs) for _ in range(2))
    other = make_split(prepared, "image", [0], seed=5, **kwargs)
    for key in ("train_idx", "train_semi", "train_class", "test_idx"):
        np.testing.assert_array_equal(first[key], again[key])
    assert first["info"] == again["info"]
    assert not (len(first["train_idx"]) == len(other["train_idx"])
                and np.array_equal(first["train_idx"], other["train_idx"])
                and np.array_equal(first["train_semi"], other["train_semi"]))


# --------------------------------------------------------------------------- tabular

def test_tabular_split_is_one_stratified_60_40_split():
    prepared = tabular_prepared()
    split = make_split(prepared, "tabular", [0], seed=1)
    info = json.loads(split["info"])
    train_candidates = info["n_train_candidates"]
    assert train_candidates == 60 and len(split["test_idx"]) == 40
    # Training = the 48 normal samples of the 60 training candidates (20 % outliers, stratified).
    assert len(split["train_idx"]) == 48 and (split["train_class"] == 0).all()
    assert not np.intersect1d(split["train_idx"], split["test_idx"]).size
    assert split["test_label"].sum() == 8  # 20 % of 40
    np.testing.assert_array_equal(split["test_label"], prepared["y"][split["test_idx"]])
    np.testing.assert_array_equal(split["test_class"], prepared["y"][split["test_idx"]])
    # The outliers left out of training are exactly the 12 training candidates of class 1.
    used = np.union1d(split["train_idx"], split["test_idx"])
    left_out = np.setdiff1d(np.arange(100), used)
    assert len(left_out) == 12 and (prepared["y"][left_out] == 1).all()


def test_tabular_pollution_and_seed():
    prepared = tabular_prepared()
    # 48 normal candidates, r_p = 0.1: unlabeled outliers = 0.1/0.9·48 = 5.33 -> 5.
    split = make_split(prepared, "tabular", [0], seed=1, ratio_pollution=0.1)
    assert groups(split) == {"known_normal": 0, "unlabeled_normal": 48, "unlabeled_outlier": 5, "known_outlier": 0}
    other = make_split(prepared, "tabular", [0], seed=2)
    assert not np.array_equal(make_split(prepared, "tabular", [0], seed=1)["test_idx"], other["test_idx"])


# --------------------------------------------------------------------------- errors

@pytest.mark.parametrize("kwargs, message", [
    (dict(normal_classes=[7]), r"normal class 7 is out of range; allowed: 0-4"),
    (dict(normal_classes=[]), r"normal_classes must be a non-empty list"),
    (dict(normal_classes=[0, 1, 2, 3, 4]), r"cover every class"),
    (dict(known_outlier_class=0, n_known_outlier_classes=1), r"known_outlier_class 0 is a normal class"),
    (dict(known_outlier_class=9, n_known_outlier_classes=1), r"known_outlier_class 9 is out of range"),
    (dict(known_outlier_class=1), r"n_known_outlier_classes must be 1, got 0"),
    (dict(ratio_known_normal=-0.1), r"ratio_known_normal must lie in \[0, 1\), got -0.1"),
    (dict(ratio_known_outlier=1.0, n_known_outlier_classes=1), r"ratio_known_outlier must lie in \[0, 1\)"),
    (dict(ratio_pollution=1.5), r"ratio_pollution must lie in \[0, 1\), got 1.5"),
    (dict(ratio_known_normal=0.6, ratio_known_outlier=0.5, n_known_outlier_classes=1),
     r"ratio_known_normal \+ ratio_known_outlier must be < 1"),
    (dict(n_known_outlier_classes=5), r"n_known_outlier_classes 5 exceeds the 4 outlier classes"),
    (dict(ratio_known_outlier=0.05), r"needs 52 known outliers but n_known_outlier_classes is 0"),
    # r_o = 0.5, nothing else: known outliers = N/2 = 1000 > the 200 samples of class 1.
    (dict(ratio_known_outlier=0.5, known_outlier_class=1, n_known_outlier_classes=1),
     r"needs 1000 known outliers but the known outlier classes \[1\] have 200 training samples"),
    # r_p = 0.5: 1000 unlabeled outliers, but the 4 outlier classes hold 800.
    (dict(ratio_pollution=0.5), r"ratio_pollution=0.5 needs 1000 unlabeled outliers but only 800"),
    (dict(kind="video"), r"split kind must be 'image' or 'tabular'"),
    (dict(seed=-1), r"seed must be a non-negative integer"),
])
def test_errors(kwargs, message):
    args = dict(prepared=image_prepared(), kind="image", normal_classes=[0], seed=0)
    args.update(kwargs)
    with pytest.raises(OcbenchError, match=message):
        make_split(**args)


def test_tabular_normal_class_must_be_zero():
    with pytest.raises(OcbenchError, match=r"normal_classes must be \[0\], got \[1\]"):
        make_split(tabular_prepared(), "tabular", [1], seed=0)


# --------------------------------------------------------------------------- the split file

def test_save_and_load_split(tmp_path):
    split = make_split(image_prepared(), "image", [0], seed=1, ratio_pollution=0.05)
    path = tmp_path / "splits" / "seed1.npz"
    save_split(split, path)
    loaded = load_split(path)
    for key, value in split.items():
        if key == "info":
            assert loaded["info"] == value and json.loads(loaded["info"])["seed"] == 1
        else:
            np.testing.assert_array_equal(loaded[key], value)
    assert [p.name for p in path.parent.iterdir()] == ["seed1.npz"]  # no temporary file left
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(OcbenchError, match=f"split file {path} is unreadable"):
        load_split(path)


# --------------------------------------------------------------------------- the validation share

def test_validation_share_is_drawn_once_in_the_split():
    # 50 test images, 10 per class; class 0 normal: 10 normal, 40 anomalies.
    split = make_split(image_prepared(), "image", [0], seed=3, validation_fraction=0.1)
    val, evaluation = split["test_validation"], split["test_evaluation"]
    # floor(0.1 · 10) = 1 normal and floor(0.1 · 40) = 4 anomalies held out, the other 45 evaluated
    assert len(val) == 5 and len(evaluation) == 45
    assert np.bincount(split["test_label"][val]).tolist() == [1, 4]
    assert sorted(np.r_[val, evaluation].tolist()) == list(range(50))  # disjoint, every test image once
    info = json.loads(split["info"])
    assert (info["validation_fraction"], info["n_validation"], info["n_evaluation"]) == (0.1, 5, 45)
    # the draw has its own generator: the training samples do not depend on it
    none = make_split(image_prepared(), "image", [0], seed=3, validation_fraction=0.0)
    np.testing.assert_array_equal(none["train_idx"], split["train_idx"])
    assert len(none["test_validation"]) == 0 and none["test_evaluation"].tolist() == list(range(50))
    again = make_split(image_prepared(), "image", [0], seed=3, validation_fraction=0.1)
    np.testing.assert_array_equal(again["test_validation"], val)


@pytest.mark.parametrize("fraction", [1.0, -0.1, "0.1", True])
def test_validation_fraction_must_lie_in_zero_to_one(fraction):
    with pytest.raises(OcbenchError, match=r"validation_fraction must lie in \[0, 1\)"):
        make_split(image_prepared(), "image", [0], seed=1, validation_fraction=fraction)


def test_every_method_of_a_split_is_scored_on_the_same_test_samples(tmp_path):
    """OC-SVM selects its kernel width on the validation share, Isolation Forest selects nothing:
    both are scored on the split's evaluation indices, and on nothing else."""
    from ocbench.jobs.data_jobs import split as split_job
    from ocbench.jobs.method_run import run_method
    from ocbench.jobs.plan import one_run_plan

    save_npz(tabular_prepared(n=200, n_outliers=40), tmp_path / "prepared.npz")
    split_job("wbc", tmp_path / "prepared.npz", [0], 1, {"validation_fraction": 0.25}, tmp_path / "split.npz")
    split = load_split(tmp_path / "split.npz")
    expected = split["test_idx"][split["test_evaluation"]].tolist()
    scored, metrics = {}, {}
    for method in ("ocsvm", "isoforest"):
        outdir = tmp_path / "runs" / method
        metrics[method] = run_method(*one_run_plan(method, prepared=tmp_path / "prepared.npz",
                                                   split=tmp_path / "split.npz", preprocessing="standard_minmax",
                                                   seed=1, run_dir=outdir))
        with open(outdir / "scores.csv") as handle:
            scored[method] = [int(line.split(",")[0]) for line in handle.readlines()[1:]]
    assert scored["ocsvm"] == scored["isoforest"] == expected
    # 80 test rows (40%), 16 anomalies: 16 normal and 4 anomalous held out, 60 evaluated
    assert len(expected) == 60 and metrics["ocsvm"]["n_test"] == metrics["isoforest"]["n_test"] == 60
    assert metrics["ocsvm"]["n_validation"] == 20 and metrics["isoforest"]["n_validation"] == 0
    assert not set(expected) & set(split["test_idx"][split["test_validation"]].tolist())


# --------------------------------------------------------------------------- load_run_data

def test_load_run_data_images(tmp_path):
    prepared = image_prepared(n_normal=30, n_per_outlier_class=10, n_classes=3)
    rng = np.random.default_rng(0)
    prepared["x_train"] = rng.integers(0, 256, size=prepared["x_train"].shape, dtype=np.uint8)
    prepared["x_test"] = rng.integers(0, 256, size=prepared["x_test"].shape, dtype=np.uint8)
    save_npz(prepared, tmp_path / "prepared.npz")
    split = make_split(prepared, "image", [0], seed=0, ratio_pollution=0.1)
    save_split(split, tmp_path / "split.npz")

    data = load_run_data(tmp_path / "prepared.npz", tmp_path / "split.npz", "gcn_minmax")
    assert isinstance(data, RunData)
    assert data.x_train.dtype == data.x_test.dtype == np.float32
    assert data.x_train.shape == (len(split["train_idx"]), 1, 2, 2) and data.x_test.shape == (30, 1, 2, 2)
    normal = data.train_class == 0
    assert 0 < (~normal).sum()  # polluted: the min-max bounds come from the normal rows only
    assert data.x_train[normal].min() == pytest.approx(0.0, abs=1e-6)
    assert data.x_train[normal].max() == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_array_equal(data.y_test, split["test_label"])
    np.testing.assert_array_equal(data.test_index, split["test_idx"])

    unit = load_run_data(tmp_path / "prepared.npz", tmp_path / "split.npz", "unit")
    np.testing.assert_allclose(unit.x_train, prepared["x_train"][split["train_idx"]] / 255.0, rtol=1e-6)


def test_load_run_data_tabular(tmp_path):
    prepared = tabular_prepared()
    save_npz(prepared, tmp_path / "prepared.npz")
    split = make_split(prepared, "tabular", [0], seed=0)
    save_split(split, tmp_path / "split.npz")
    data = load_run_data(tmp_path / "prepared.npz", tmp_path / "split.npz", "standard_minmax")
    assert data.x_train.shape == (48, 3) and data.x_test.shape == (40, 3)
    np.testing.assert_allclose(data.x_train.min(axis=0), 0.0, atol=1e-6)
    np.testing.assert_allclose(data.x_train.max(axis=0), 1.0, atol=1e-6)
    np.testing.assert_array_equal(data.y_test, prepared["y"][split["test_idx"]])


def test_load_run_data_rejects_a_split_of_another_file(tmp_path):
    big, small = image_prepared(), image_prepared(n_normal=10, n_per_outlier_class=2)
    save_npz(small, tmp_path / "prepared.npz")
    save_split(make_split(big, "image", [0], seed=0), tmp_path / "split.npz")
    with pytest.raises(OcbenchError, match="outside the prepared array"):
        load_run_data(tmp_path / "prepared.npz", tmp_path / "split.npz", "unit")
