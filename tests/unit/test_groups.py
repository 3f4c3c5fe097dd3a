"""Groups of normal classes: explicit, 'all', and drawn by seed; their place in the grid and the paths;
the multi-radius preset."""
import copy
import itertools
from math import comb

import pytest
import yaml

from ocbench.config import load_and_validate, normal_name, runs
from ocbench.data.groups import draw_groups, expand_normal_classes
from ocbench.errors import OcbenchError

from helpers.config_checks import fails
from helpers.paths import ROOT
from helpers.workflow import snakemake_with_configfile

MULTI_RADIUS = ROOT / "workflow" / "experiments" / "multi_radius.yaml"


def base(normal_classes, settings=None):
    config = {"seeds": [1, 2], "methods": ["deep_svdd_oneclass", "isoforest"],
              "datasets": {"mnist5k": {"normal_classes": normal_classes, "settings": ["one_class"]}}}
    if settings:
        config["settings"] = settings
    return config


# --------------------------------------------------------------------------- drawing

def test_drawn_groups_are_reproducible_distinct_and_of_k_classes():
    groups = draw_groups(10, 3, 8, seed=4)
    assert groups == draw_groups(10, 3, 8, seed=4)  # same seed, same groups
    assert len({tuple(g) for g in groups}) == 8  # distinct
    for group in groups:
        assert len(group) == 3 and group == sorted(group) and len(set(group)) == 3
        assert all(0 <= c < 10 for c in group)
    assert draw_groups(10, 3, 8, seed=5) != groups  # another seed, other groups


def test_more_groups_keep_the_earlier_ones():
    assert draw_groups(10, 2, 7, seed=0)[:3] == draw_groups(10, 2, 3, seed=0)


def test_every_group_can_be_drawn_when_all_are_asked_for():
    # 4 classes, k = 2: the six pairs, each once
    groups = draw_groups(4, 2, 6, seed=1)
    assert sorted(map(tuple, groups)) == list(itertools.combinations(range(4), 2))


def test_too_many_groups_or_too_large_k():
    with pytest.raises(OcbenchError, match=r"draw 11 classes, but the dataset has 10; allowed: draw at most 10"):
        draw_groups(10, 11, 1, seed=0)
    with pytest.raises(OcbenchError, match=rf"5 distinct groups of 3 classes asked for, but .* 4 classes, "
                                           rf"which make only {comb(4, 3)}"):
        draw_groups(4, 3, 5, seed=0)


def test_expand_keeps_class_ids_and_sorts_groups():
    items = [3, [7, 1], "all", {"draw": 2, "groups": 2, "seed": 9}]
    expanded = expand_normal_classes(items, 10, "normal_classes")
    assert expanded[:3] == [3, [1, 7], list(range(10))]
    assert expanded[3:] == draw_groups(10, 2, 2, seed=9)


@pytest.mark.parametrize("items, message", [
    ([[1, 4, 1]], r"normal_classes.0: group \[1, 4, 1\] names class 1 twice; each class once"),
    ([[1, 12]], r"normal_classes.0: class 12 is out of range for the dataset; allowed: 0-9"),
    ([[2, 1], [1, 2]], r"normal_classes.1: the group 1-2 is listed twice"),
])
def test_bad_groups(items, message):
    with pytest.raises(OcbenchError, match=message):
        expand_normal_classes(items, 10, "normal_classes")


# --------------------------------------------------------------------------- in the config and the grid

def test_config_expands_drawn_groups_into_stable_paths():
    item = {"draw": 3, "groups": 4, "seed": 2}
    config = load_and_validate(base([0, item]))
    expected = draw_groups(10, 3, 4, seed=2)
    assert config["datasets"]["mnist5k"]["normal_classes"] == [0] + expected
    grid = runs(config)
    names = [normal_name(g) for g in expected]
    assert sorted({r.normal for r in grid}) == sorted(["0"] + names)
    assert all(len({r.seed for r in grid if r.normal == n}) == 2 for n in names)  # every group runs every seed
    again = runs(load_and_validate(base([0, dict(item)])))
    assert again == grid  # a second reading of the same config plans the same runs


def test_config_refuses_a_class_twice_out_of_range_and_k_too_large():
    fails(base([[2, 5, 2]]), "datasets.mnist5k.normal_classes.0", "names class 2 twice")
    fails(base([[2, 10]]), "class 10 is out of range for dataset 'mnist5k'", "0-9")
    fails(base([{"draw": 11}]), "datasets.mnist5k.normal_classes.0", "draw 11 classes",
          "dataset 'mnist5k' has 10")


def test_all_classes_normal_needs_anomalies_from_elsewhere():
    fails(base(["all"]), "makes every class normal", "setting 'one_class'", "anomaly_datasets")
    fails(base([{"draw": 10}]), "makes every class normal")


# --------------------------------------------------------------------------- the multi-radius preset

def test_multi_radius_preset_groups():
    config = load_and_validate(yaml.safe_load(MULTI_RADIUS.read_text()))
    assert config["seeds"] == list(range(1, 11))
    assert {"deep_svdd_oneclass", "multi_radius_deep_svdd", "multi_radius_deep_svdd_labels"} <= set(config["methods"])
    for dataset in ("mnist", "cifar10"):
        groups = config["datasets"][dataset]["normal_classes"]
        sizes = [len(g) for g in groups]
        assert sizes == [2] * 5 + [3] * 5 + [4] * 5
        assert len({tuple(g) for g in groups}) == 15
    assert config["method_params"]["multi_radius_deep_svdd"]["clusters"] == "finch"


@pytest.mark.workflow
def test_multi_radius_preset_dry_run_offline(tmp_path):
    result = snakemake_with_configfile(tmp_path, MULTI_RADIUS, "--dry-run", "--quiet", "rules")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    config = load_and_validate(copy.deepcopy(yaml.safe_load(MULTI_RADIUS.read_text())))
    n_splits = sum(len(ds["normal_classes"]) for ds in config["datasets"].values()) * len(config["seeds"])
    assert f"split {n_splits}".split() in [line.split() for line in (result.stdout + result.stderr).splitlines()]
    assert not (tmp_path / "data").exists()  # a dry run downloads nothing
