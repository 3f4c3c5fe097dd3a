"""Splits: which samples a run trains on (with semi-labels) and which it is tested on.

A split is a pure function of its arguments: every random draw comes from
``np.random.default_rng(seed)`` (and, for the tabular 60/40 split, scikit-learn's
``random_state=seed``), so the saved file can always be made again, and every method
of a run sees the same samples.

- images: training candidates = the official training set; test = the whole official
  test set, label 0 if its class is normal, else 1;
- tabular: ONE stratified 60/40 split of ``x``, ``y`` (classes 0 normal, 1 outlier). The
  reference drew train and test from two draws of an advancing random state, so test
  samples were also training samples.

Then the Deep SAD semi-supervised equations (REFERENCE.md, Splits) choose the training
samples among the candidates: known normals (+1), unlabeled normals and unlabeled
outliers (0), known outliers (−1). Known outliers come from the known outlier classes;
unlabeled outliers from all outlier classes, disjoint from the known ones (the
reference drew them independently, so a sample could be both). With every ratio 0
the training set is all training samples of the normal classes: the one-class setting.

A setting with a ``transductive`` block follows instead the protocol of the OC-NN
authors' notebooks (``make_transductive_split``): the training set is every image of the
normal classes, official training and test sets pooled, plus anomalies drawn from the
other classes, and the test set is that same training set.

Last, the test split is divided once into a validation share and the evaluation set
(``test_validation``, ``test_evaluation``: positions into the test arrays). Methods that
choose a hyper-parameter on labelled data (OC-SVM's and SSAD's γ) fit on the validation
share, and every method of the split is scored on the same evaluation positions, so a
table never sets numbers from different test samples side by side.
"""
from __future__ import annotations

import json

import numpy as np

from ..errors import OcbenchError, check_open_unit
from .prepared import load_npz, save_npz
from .dataset_source import TABULAR_TRAIN_SHARE

SPLIT_KEYS = ("train_idx", "train_semi", "train_class", "test_idx", "test_label", "test_class", "test_validation",
              "test_evaluation", "info")
#: share of the test split held out for the methods that select on labelled data (the config's default)
DEFAULT_VALIDATION_FRACTION = 0.1
#: the ratios of a semi-supervised setting (all 0 in a setting whose anomalies come from elsewhere)
RATIOS = ("ratio_known_normal", "ratio_known_outlier", "ratio_pollution")


def _int_list(what: str, values) -> list[int]:
    values = list(values)
    if not values or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        raise OcbenchError(f"{what} must be a non-empty list of class ids, got {values!r}")
    if len(set(values)) != len(values):
        raise OcbenchError(f"{what} {values} repeats a class")
    return sorted(int(v) for v in values)


def _check_ratios(ratios: dict[str, float]) -> None:
    for name, value in ratios.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= float(value) < 1.0:
            raise OcbenchError(f"{name} must lie in [0, 1), got {value!r}")
    total = ratios["ratio_known_normal"] + ratios["ratio_known_outlier"]
    if total >= 1.0:
        raise OcbenchError(f"ratio_known_normal + ratio_known_outlier must be < 1 (they are shares of one "
                           f"training set), got {ratios['ratio_known_normal']} + {ratios['ratio_known_outlier']}")


def semisupervised_counts(n_normal: int, ratio_known_normal: float, ratio_known_outlier: float,
                          ratio_pollution: float) -> dict[str, int]:
    """Solve the Deep SAD equations for the size of each training group.

    Unknowns (known normal, unlabeled normal, unlabeled outlier, known outlier), N their sum:
    known + unlabeled normal = n_normal; known normal = r_n·N; known outlier = r_o·N;
    unlabeled outlier = r_p·(unlabeled normal + unlabeled outlier). Solved with
    ``np.linalg.solve`` and truncated to integers as in the reference; the solution is
    first rounded to 6 decimals so that solver noise (9.9999999999) does not lose a sample.
    """
    r_n, r_o, r_p = ratio_known_normal, ratio_known_outlier, ratio_pollution
    a = np.array([[1, 1, 0, 0],
                  [1 - r_n, -r_n, -r_n, -r_n],
                  [-r_o, -r_o, -r_o, 1 - r_o],
                  [0, -r_p, 1 - r_p, 0]], dtype=np.float64)
    b = np.array([n_normal, 0, 0, 0], dtype=np.float64)
    names = ("known_normal", "unlabeled_normal", "unlabeled_outlier", "known_outlier")
    try:
        solution = np.round(np.linalg.solve(a, b), 6)
    except np.linalg.LinAlgError:
        raise OcbenchError(f"the semi-supervised equations have no unique solution for r_n={r_n}, r_o={r_o}, "
                           f"r_p={r_p} with {n_normal} normal samples") from None
    if (solution < 0).any():
        raise OcbenchError(f"the semi-supervised equations give negative counts for r_n={r_n}, r_o={r_o}, "
                           f"r_p={r_p} with {n_normal} normal samples: "
                           + ", ".join(f"{n} {v:g}" for n, v in zip(names, solution)))
    return {name: int(value) for name, value in zip(names, solution)}


def _known_outlier_classes(outlier_classes: list[int], known_outlier_class, k: int,
                           rng: np.random.Generator) -> list[int]:
    if k == 0:
        return []
    if k == 1 and known_outlier_class is not None:
        return [int(known_outlier_class)]
    return sorted(int(c) for c in rng.choice(outlier_classes, size=k, replace=False))


def check_seed(seed) -> None:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise OcbenchError(f"seed must be a non-negative integer, got {seed!r}")


# --- the settings whose anomalies come from elsewhere (other datasets, attacked images) -----

def check_unsupervised_setting(where: str, setting: dict, source: str, why: str) -> None:
    """Config check of a setting whose anomalies come from ``source`` (``why``): no ratio, no known class."""
    for key in RATIOS:
        if setting[key] > 0:
            raise OcbenchError(f"config {where}: {key} is {setting[key]} but a setting with {source} is "
                               f"unsupervised ({why}); set the ratios to 0")
    if setting["n_known_outlier_classes"] or setting["known_outlier_class"] is not None:
        raise OcbenchError(f"config {where}: a setting with {source} has no known outlier classes; "
                           "remove n_known_outlier_classes and known_outlier_class")


def unsupervised_training(prepared: dict, normal_classes, seed, others: dict, source: str):
    """What every split with anomalies from ``source`` starts from, checked: ``(normal classes,
    y_train, y_test, training indices)``, the training set being every training image of the
    normal classes. ``others``: the remaining split parameters (the ratios must be 0)."""
    labelled = {k: v for k, v in others.items() if k in RATIOS + ("n_known_outlier_classes",) and v}
    if labelled or others.get("known_outlier_class") is not None:
        raise OcbenchError(f"a split with {source} is unsupervised; got {labelled or others}")
    normal = _int_list("normal_classes", normal_classes)
    check_seed(seed)
    y_train, y_test = np.asarray(prepared["y_train"]), np.asarray(prepared["y_test"])
    n_classes = int(max(y_train.max(), y_test.max())) + 1
    out_of_range = [c for c in normal if not 0 <= c < n_classes]
    if out_of_range:
        raise OcbenchError(f"normal class {out_of_range[0]} is out of range; allowed: 0-{n_classes - 1}")
    return normal, y_train, y_test, np.flatnonzero(np.isin(y_train, normal)).astype(np.int64)


def unsupervised_info(normal: list[int], seed) -> dict:
    """The split-info keys of such a split that a semi-supervised split also has: no labels of any kind."""
    return {"kind": "image", "normal_classes": normal, "outlier_classes": [], "seed": int(seed),
            **{k: 0.0 for k in RATIOS}, "known_outlier_class": None, "n_known_outlier_classes": 0,
            "known_outlier_classes": []}


# --- the transductive protocol: scored on the training images (the OC-NN authors' notebooks) ----

#: the protocols a run records: scored on test images, or on its own training images
INDUCTIVE, TRANSDUCTIVE = "inductive", "transductive"
#: the split keys of the transductive protocol (a setting's ``transductive`` block; ``config.split_params``)
TRANSDUCTIVE_KEYS = ("contamination", "anomalies", "gcn_classes")


def pooled_images(prepared: dict) -> np.ndarray:
    """The official training images followed by the test images: what a transductive split's indices point into."""
    return np.concatenate([prepared["x_train"], prepared["x_test"]])


def check_contamination(where: str, contamination) -> None:
    if isinstance(contamination, bool) or not isinstance(contamination, (int, float)) \
            or not 0.0 <= float(contamination) < 1.0:
        raise OcbenchError(f"{where}contamination must lie in [0, 1) (anomalies as a share of the normal "
                           f"images), got {contamination!r}")


def transductive_anomaly_count(n_normal: int, contamination=None, anomalies=None) -> int:
    """How many anomalies join ``n_normal`` normal images: ``anomalies``, or ``int(contamination × n_normal)``.

    The authors' MNIST code takes ``int(0.01 * len(normal images))`` (truncated, as here);
    their CIFAR-10 code a count, 500.
    """
    if (contamination is None) == (anomalies is None):
        raise OcbenchError("the transductive protocol takes contamination (a share of the normal images) or "
                           f"anomalies (a count), exactly one; got contamination={contamination!r}, "
                           f"anomalies={anomalies!r}")
    if anomalies is not None:
        if isinstance(anomalies, bool) or not isinstance(anomalies, (int, np.integer)) or anomalies < 0:
            raise OcbenchError(f"anomalies must be a count >= 0, got {anomalies!r}")
        return int(anomalies)
    check_contamination("", contamination)
    return int(contamination * n_normal)


def check_transductive_setting(where: str, setting: dict, kind: str, n_classes: int) -> None:
    """Config check of a setting with a ``transductive`` block, before any job (``config.check_semantics``)."""
    protocol = setting["transductive"]
    if kind != "image":
        raise OcbenchError(f"config {where}: the transductive protocol pools a dataset's official training and "
                           "test images, so it is for image datasets only")
    for other, what in (("anomaly_datasets", "multi-dataset"), ("attack", "adversarial")):
        if setting.get(other):
            raise OcbenchError(f"config {where}: the transductive protocol cannot be combined with {other} (a "
                               f"{what} setting): its anomalies are images of the dataset's other classes")
    check_unsupervised_setting(where, setting, "the transductive protocol",
                               "its anomalies are the unlabelled contamination")
    if "contamination" in protocol:
        check_contamination(f"config {where}.transductive: ", protocol["contamination"])
    if ("contamination" in protocol) == ("anomalies" in protocol):
        raise OcbenchError(f"config {where}.transductive: give contamination (anomalies as a share of the normal "
                           "images, the authors' MNIST protocol) or anomalies (a count, their CIFAR-10 protocol), "
                           "exactly one")
    outside = [c for c in protocol.get("gcn_classes", []) if c >= n_classes]
    if outside:
        raise OcbenchError(f"config {where}.transductive.gcn_classes: class {outside[0]} is out of range; "
                           f"allowed: 0-{n_classes - 1}")


def make_transductive_split(prepared: dict, normal_classes, seed, transductive: dict, **others) -> dict:
    """The OC-NN authors' transductive protocol: train on, and score, the same images.

    The training set is every image of the normal classes in the official training and
    test sets, pooled (``pooled_images``), plus anomalies drawn by seed among the pooled
    images of the other classes: ``transductive["anomalies"]`` of them, or
    ``int(contamination × normal images)``. The test set is the training set itself,
    labelled, and every image of it is scored (no validation share: the protocol has no
    labelled data to select on). Indices point into the pooled images. Where every normal
    class is in ``transductive["gcn_classes"]``, ``info["gcn_l2"]`` asks the loader for
    the authors' per-image L2 contrast normalisation (``preprocess.gcn_l2``), as their
    CIFAR-10 loader does for classes 1, 3, 5, 6, 7 and 9.

    ``others``: the setting's remaining split parameters; the ratios must be 0 and no
    outlier class known (``unsupervised_training``), a validation share is ignored.
    """
    if "x_train" not in prepared:
        raise OcbenchError("the transductive protocol pools a dataset's training and test images; "
                           "a tabular dataset has no such split")
    others = {k: v for k, v in others.items() if k != "validation_fraction"}
    normal, y_train, y_test, _ = unsupervised_training(prepared, normal_classes, seed, others,
                                                       "the transductive protocol")
    unknown = sorted(set(transductive) - set(TRANSDUCTIVE_KEYS))
    if unknown:
        raise OcbenchError(f"unknown transductive key {unknown[0]!r}; allowed: {', '.join(TRANSDUCTIVE_KEYS)}")
    pooled_class = np.concatenate([y_train, y_test]).astype(np.int64)
    is_normal = np.isin(pooled_class, normal)
    normal_pos = np.flatnonzero(is_normal)
    n_anomalies = transductive_anomaly_count(len(normal_pos), transductive.get("contamination"),
                                             transductive.get("anomalies"))
    other_pos = np.flatnonzero(~is_normal)
    if n_anomalies > len(other_pos):
        raise OcbenchError(f"the transductive protocol asks for {n_anomalies} anomalies but the classes outside "
                           f"{normal} have {len(other_pos)} images")
    anomaly_pos = _draw(other_pos, n_anomalies, np.random.default_rng(seed))
    scored = np.sort(np.concatenate([normal_pos, anomaly_pos])).astype(np.int64)
    label = (~is_normal[scored]).astype(np.int64)
    gcn_classes = [int(c) for c in transductive.get("gcn_classes", [])]
    info = {**unsupervised_info(normal, seed), "protocol": TRANSDUCTIVE,
            "outlier_classes": sorted(set(int(c) for c in pooled_class) - set(normal)),
            "contamination": transductive.get("contamination"), "anomalies": transductive.get("anomalies"),
            "gcn_classes": gcn_classes, "gcn_l2": bool(gcn_classes) and set(normal) <= set(gcn_classes),
            "n_pooled_train_images": int(len(y_train)), "n_normal_from_train": int((normal_pos < len(y_train)).sum()),
            "n_normal_from_test": int((normal_pos >= len(y_train)).sum()),
            "n_train": int(len(scored)), "n_test": int(len(scored)), "n_test_normal": int((label == 0).sum()),
            "n_test_anomaly": int((label == 1).sum()), "validation_fraction": 0.0, "n_validation": 0,
            "n_evaluation": int(len(scored))}
    return {"train_idx": scored, "train_semi": np.zeros(len(scored), dtype=np.int64),
            "train_class": pooled_class[scored], "test_idx": scored.copy(), "test_label": label,
            "test_class": pooled_class[scored], "test_validation": np.zeros(0, dtype=np.int64),
            "test_evaluation": np.arange(len(scored), dtype=np.int64), "info": json.dumps(info, sort_keys=True)}


def protocol_of(split_info: dict) -> str:
    """``transductive`` for a split that scores its own training images, else ``inductive``; every run records it."""
    return split_info.get("protocol", INDUCTIVE)


def check_classes(n_classes: int, normal: list[int], known_outlier_class, k) -> list[int]:
    """Validate the class arguments of a split; return the outlier classes.

    The one place for these rules: ``make_split`` calls it, and the config check calls it
    for every setting and normal group before any job (``config._check_setting_classes``).
    """
    out_of_range = [c for c in normal if not 0 <= c < n_classes]
    if out_of_range:
        raise OcbenchError(f"normal class {out_of_range[0]} is out of range; allowed: 0-{n_classes - 1}")
    outlier_classes = [c for c in range(n_classes) if c not in normal]
    if not outlier_classes:
        raise OcbenchError(f"normal classes {normal} cover every class; at least one class must be anomalous")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
        raise OcbenchError(f"n_known_outlier_classes must be a non-negative integer, got {k!r}")
    if k > len(outlier_classes):
        raise OcbenchError(f"n_known_outlier_classes {k} exceeds the {len(outlier_classes)} outlier classes "
                           f"{outlier_classes}")
    if known_outlier_class is not None:
        if k != 1:
            raise OcbenchError(f"known_outlier_class {known_outlier_class} names one class, so "
                               f"n_known_outlier_classes must be 1, got {k}")
        if not isinstance(known_outlier_class, (int, np.integer)) or not 0 <= known_outlier_class < n_classes:
            raise OcbenchError(f"known_outlier_class {known_outlier_class!r} is out of range; "
                               f"allowed: 0-{n_classes - 1}")
        if known_outlier_class in normal:
            raise OcbenchError(f"known_outlier_class {known_outlier_class} is a normal class ({normal}); "
                               f"pick one of {outlier_classes}")
    return outlier_classes


def _candidates(prepared: dict, kind: str, seed: int):
    """(train candidate indices, their classes, test indices, their classes, number of classes)."""
    if kind == "image":
        y_train, y_test = np.asarray(prepared["y_train"]), np.asarray(prepared["y_test"])
        n_classes = int(max(y_train.max(), y_test.max())) + 1
        return np.arange(len(y_train)), y_train, np.arange(len(y_test)), y_test, n_classes
    from sklearn.model_selection import train_test_split  # here: image splits and config checks need none

    y = np.asarray(prepared["y"])
    try:
        train_idx, test_idx = train_test_split(np.arange(len(y)), train_size=TABULAR_TRAIN_SHARE, stratify=y,
                                               random_state=seed)
    except ValueError as exc:
        raise OcbenchError(f"cannot split the tabular data 60/40 by class ({' '.join(str(exc).split())})") from None
    train_idx, test_idx = np.sort(train_idx), np.sort(test_idx)
    return train_idx, y[train_idx], test_idx, y[test_idx], 2


def _check_available(counts: dict[str, int], n_known_pool: int, n_outliers: int, known_classes: list[int],
                     ratio_known_outlier: float, ratio_pollution: float) -> None:
    """Raise, naming the constraint and its numbers, when a group asks for more samples than exist."""
    if counts["known_outlier"] > n_known_pool:
        where = (f"the known outlier classes {known_classes} have {n_known_pool} training samples" if known_classes
                 else "n_known_outlier_classes is 0, so there are none")
        raise OcbenchError(f"ratio_known_outlier={ratio_known_outlier} needs {counts['known_outlier']} known "
                           f"outliers but {where}")
    left = n_outliers - counts["known_outlier"]
    if counts["unlabeled_outlier"] > left:
        raise OcbenchError(f"ratio_pollution={ratio_pollution} needs {counts['unlabeled_outlier']} unlabeled "
                           f"outliers but only {left} outlier training samples are left "
                           f"({n_outliers} minus {counts['known_outlier']} known outliers)")


def _draw(pool: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    return pool[rng.permutation(len(pool))[:n]]


def holdout_validation(n_test: int, y_test, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split test indices 0..n_test-1 into (validation, evaluation), stratified by label, by seed.

    Each class gives ``floor(fraction · its size)`` samples, at least one, to the
    validation set and always keeps at least one for the evaluation (a class of one
    sample stays whole in the evaluation). Both index arrays are sorted. The draw uses
    its own generator of ``seed``, so it does not move the training draws.
    """
    check_open_unit("validation_fraction", fraction)
    y_test = np.asarray(y_test).ravel()
    if len(y_test) != n_test:
        raise OcbenchError(f"y_test has {len(y_test)} labels but n_test is {n_test}")
    rng = np.random.default_rng(seed)
    chosen = []
    for label in (0, 1):  # fixed order: the draw depends on the seed only
        members = np.flatnonzero(y_test == label)
        if len(members) < 2:
            continue
        n_val = min(len(members) - 1, max(1, int(fraction * len(members))))
        chosen.append(rng.permutation(members)[:n_val])
    val_idx = np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=np.int64)
    eval_idx = np.setdiff1d(np.arange(n_test), val_idx)
    return val_idx.astype(np.int64), eval_idx.astype(np.int64)


def validation_share(test_label, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(validation, evaluation) positions into a split's test arrays; ``fraction`` 0 holds nothing out."""
    n_test = len(test_label)
    if not isinstance(fraction, bool) and isinstance(fraction, (int, float)) and fraction == 0:
        return np.zeros(0, dtype=np.int64), np.arange(n_test, dtype=np.int64)
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 <= fraction < 1:
        raise OcbenchError(f"validation_fraction must lie in [0, 1) (0: no validation share), got {fraction!r}")
    return holdout_validation(n_test, test_label, float(fraction), seed)


def make_split(prepared: dict, kind: str, normal_classes: list[int], seed: int,
               ratio_known_normal: float = 0.0, ratio_known_outlier: float = 0.0, ratio_pollution: float = 0.0,
               known_outlier_class: int | None = None, n_known_outlier_classes: int = 0,
               validation_fraction: float = DEFAULT_VALIDATION_FRACTION) -> dict:
    """Draw one split (docs/architecture.md, split contract); a pure function of its arguments."""
    if kind not in ("image", "tabular"):
        raise OcbenchError(f"split kind must be 'image' or 'tabular', got {kind!r}")
    normal = _int_list("normal_classes", normal_classes)
    if kind == "tabular" and normal != [0]:
        raise OcbenchError(f"tabular datasets have class 0 normal and 1 outlier, so normal_classes must be [0], "
                           f"got {normal}")
    ratios = {"ratio_known_normal": ratio_known_normal, "ratio_known_outlier": ratio_known_outlier,
              "ratio_pollution": ratio_pollution}
    _check_ratios(ratios)
    check_seed(seed)
    train_cand, train_cand_class, test_idx, test_class, n_classes = _candidates(prepared, kind, int(seed))
    outlier_classes = check_classes(n_classes, normal, known_outlier_class, n_known_outlier_classes)

    is_normal = np.isin(train_cand_class, normal)
    counts = semisupervised_counts(int(is_normal.sum()), **ratios)
    rng = np.random.default_rng(seed)
    known_classes = _known_outlier_classes(outlier_classes, known_outlier_class, n_known_outlier_classes, rng)

    known_pool = np.flatnonzero(np.isin(train_cand_class, known_classes))
    _check_available(counts, len(known_pool), int((~is_normal).sum()), known_classes, ratio_known_outlier,
                     ratio_pollution)

    # Positions into the candidate arrays. Known outliers are drawn first and removed
    # from the pool of the unlabeled outliers, so no sample is in both groups.
    normal_pos = _draw(np.flatnonzero(is_normal), counts["known_normal"] + counts["unlabeled_normal"], rng)
    known_normal, unlabeled_normal = np.split(normal_pos, [counts["known_normal"]])
    known_outlier = _draw(known_pool, counts["known_outlier"], rng)
    unlabeled_outlier = _draw(np.setdiff1d(np.flatnonzero(~is_normal), known_outlier), counts["unlabeled_outlier"],
                              rng)

    positions = np.concatenate([known_normal, unlabeled_normal, unlabeled_outlier, known_outlier])
    semi = np.concatenate([np.ones(len(known_normal)), np.zeros(len(unlabeled_normal) + len(unlabeled_outlier)),
                           -np.ones(len(known_outlier))]).astype(np.int64)
    order = np.argsort(positions, kind="stable")  # canonical order: by index into the training set
    positions, semi = positions[order], semi[order]
    test_label = (~np.isin(test_class, normal)).astype(np.int64)
    test_validation, test_evaluation = validation_share(test_label, validation_fraction, int(seed))

    info = {"kind": kind, "normal_classes": normal, "outlier_classes": outlier_classes, "seed": int(seed),
            **{k: float(v) for k, v in ratios.items()},
            "known_outlier_class": None if known_outlier_class is None else int(known_outlier_class),
            "n_known_outlier_classes": int(n_known_outlier_classes), "known_outlier_classes": known_classes,
            "n_train_candidates": int(len(train_cand)), **{f"n_{k}": v for k, v in counts.items()},
            "n_train": int(len(positions)), "n_test": int(len(test_idx)),
            "n_test_normal": int((test_label == 0).sum()), "n_test_anomaly": int((test_label == 1).sum()),
            "validation_fraction": float(validation_fraction), "n_validation": int(len(test_validation)),
            "n_evaluation": int(len(test_evaluation))}
    return {"train_idx": train_cand[positions].astype(np.int64), "train_semi": semi,
            "train_class": np.asarray(train_cand_class[positions], dtype=np.int64),
            "test_idx": test_idx.astype(np.int64), "test_label": test_label,
            "test_class": np.asarray(test_class, dtype=np.int64), "test_validation": test_validation,
            "test_evaluation": test_evaluation, "info": json.dumps(info, sort_keys=True)}


def save_split(split: dict, path) -> None:
    """Write a split to ``path`` (``.npz``) atomically."""
    arrays = {key: np.asarray(split[key]) for key in SPLIT_KEYS + OPTIONAL_SPLIT_KEYS if key in split}
    missing = [key for key in SPLIT_KEYS if key not in split]
    if missing:
        raise OcbenchError(f"a split lacks the arrays {', '.join(missing)}")
    save_npz(arrays, path)


def load_split(path) -> dict:
    """Read a split file; ``info`` comes back as its JSON string, ``test_source`` 0s where it is absent."""
    arrays = load_npz(path, SPLIT_KEYS, "split")
    arrays["info"] = str(arrays["info"].item())
    arrays.setdefault("test_source", np.zeros(len(arrays["test_idx"]), dtype=np.int64))
    return arrays


#: arrays only some splits hold: ``test_source``, the dataset each test sample comes from
#: (0: the split's own dataset; i: the i-th name of info["test_sources"], ``ood.py``; 1: the
#: attacked copies of its test images in a split with an attack, ``adversarial.py``)
OPTIONAL_SPLIT_KEYS = ("test_source",)
