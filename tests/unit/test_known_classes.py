"""The Deep SAD protocol: ``known_outlier_class: all`` (a list, ``next``) makes one split per known
outlier class as a grid dimension named ``{setting}.k{class}``; counts, names, split parameters, bad input."""
import pytest

from ocbench.config import (base_setting, dataset_settings, load_and_validate, parse_setting_name, runs,
                            split_params)
from ocbench.errors import OcbenchError

from helpers.config_checks import fails


def config_with(known, normal_classes=(0, 3), n_known=1, ratio=0.05, name="labelled"):
    return {
        "seeds": [1, 2],
        "methods": ["deep_sad", "isoforest"],
        "settings": {name: {"ratio_known_outlier": ratio, "ratio_pollution": 0.1, "known_outlier_class": known,
                            "n_known_outlier_classes": n_known}},
        "datasets": {"mnist5k": {"normal_classes": list(normal_classes)}},
    }


def grid(known, normal_classes=(0, 3)):
    config = load_and_validate(config_with(known, normal_classes))
    return config, runs(config)


def known_by_normal(grid_runs):
    found = {}
    for run in grid_runs:
        found.setdefault(run.normal, set()).add(parse_setting_name(run.setting)[1])
    return {normal: sorted(classes) for normal, classes in found.items()}


def test_all_gives_one_split_per_class_outside_the_normal_group():
    config, grid_runs = grid("all")
    # 2 normal classes × 9 known classes × 2 seeds × 2 methods
    assert len(grid_runs) == 2 * 9 * 2 * 2
    assert known_by_normal(grid_runs) == {"0": [1, 2, 3, 4, 5, 6, 7, 8, 9], "3": [0, 1, 2, 4, 5, 6, 7, 8, 9]}
    assert {run.setting for run in grid_runs if run.normal == "3"} >= {"labelled.k0", "labelled.k9"}
    assert split_params(config, "labelled.k4") == {
        "ratio_known_normal": 0, "ratio_known_outlier": 0.05, "ratio_pollution": 0.1, "known_outlier_class": 4,
        "n_known_outlier_classes": 1, "validation_fraction": 0.1}
    assert base_setting(config, "labelled.k4") == "labelled"
    # one LaTeX table and ROC figure per known class, in class order
    assert [s for _, s in dataset_settings(config)] == [f"labelled.k{c}" for c in range(10)]


def test_a_list_keeps_its_classes_outside_each_normal_group():
    _, grid_runs = grid([3, 5])
    assert known_by_normal(grid_runs) == {"0": [3, 5], "3": [5]}


@pytest.mark.parametrize("normal_classes, expected", [
    ((9,), {"9": [0]}),          # (c + 1) mod 10
    ((3,), {"3": [4]}),
    (([8, 9],), {"8-9": [0]}),   # the class after the group's largest
    (([9, 0],), {"0-9": [1]}),   # 0 is normal, so the next one
])
def test_next_is_the_class_after_the_normal_group(normal_classes, expected):
    _, grid_runs = grid("next", normal_classes)
    assert known_by_normal(grid_runs) == expected


def test_a_single_class_and_null_keep_the_setting_name():
    for known in (7, None):
        _, grid_runs = grid(known)
        assert {run.setting for run in grid_runs} == {"labelled"}


def test_split_params_refuse_an_expanding_setting_without_its_class():
    config, _ = grid("all")
    with pytest.raises(OcbenchError, match="one split per known outlier class"):
        split_params(config, "labelled")
    with pytest.raises(OcbenchError, match="setting 'other.k3' is not in the config"):
        split_params(config, "other.k3")


def test_bad_input_is_one_line_before_any_job():
    fails(config_with("all", n_known=2), "settings.labelled", "known_outlier_class 'all'",
          "n_known_outlier_classes must be 1, got 2")
    fails(config_with("next", ratio=0.0), "ratio_known_outlier is 0")
    fails(config_with([12]), "known_outlier_class 12 is out of range", "0-9")
    fails(config_with([3], normal_classes=(3,)), "leaves no class outside the normal classes 3")
    fails(config_with("all", name="labelled.k3"), "setting name 'labelled.k3'")
    fails(config_with("some"), "known_outlier_class: 'some' is not allowed; allowed: null; an integer >= 0; 'all', 'next'")
