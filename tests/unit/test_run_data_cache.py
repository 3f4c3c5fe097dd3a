"""The preprocessed arrays of a split: computed once, cached beside the split, recomputed when an input changes."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ocbench.data as data_module
from ocbench.data import load_run_data, preprocessing_cache_path
from ocbench.data.prepared import save_npz
from ocbench.data.splits import make_split, save_split

from helpers.paths import ROOT


def write_inputs(folder: Path, seed: int = 0, pixel_seed: int = 0):
    rng = np.random.default_rng(pixel_seed)
    y_train = np.repeat(np.arange(3), [40, 10, 10])
    y_test = np.repeat(np.arange(3), 10)
    prepared = {"x_train": rng.integers(0, 256, (60, 1, 4, 4), dtype=np.uint8), "y_train": y_train,
                "x_test": rng.integers(0, 256, (30, 1, 4, 4), dtype=np.uint8), "y_test": y_test}
    save_npz(prepared, folder / "prepared.npz")
    save_split(make_split(prepared, "image", [0], seed, ratio_pollution=0.1), folder / "split.npz")
    return folder / "prepared.npz", folder / "split.npz"


@pytest.fixture
def counted(monkeypatch):
    """The number of times the preprocessing is computed."""
    calls = []
    compute = data_module._preprocess_split
    monkeypatch.setattr(data_module, "_preprocess_split", lambda *a: calls.append(a) or compute(*a))
    return calls


def test_second_load_reads_the_cache_and_gives_the_same_arrays(tmp_path, counted):
    prepared, split = write_inputs(tmp_path)
    first = load_run_data(prepared, split, "gcn_minmax")
    second = load_run_data(prepared, split, "gcn_minmax")
    assert len(counted) == 1
    assert preprocessing_cache_path(split, "gcn_minmax") == tmp_path / ".split.gcn_minmax.preprocessed.npz"
    assert preprocessing_cache_path(split, "gcn_minmax").is_file()
    uncached = load_run_data(prepared, split, "gcn_minmax", cache=False)
    for array in ("x_train", "x_test"):
        np.testing.assert_array_equal(getattr(second, array), getattr(first, array))
        np.testing.assert_array_equal(getattr(second, array), getattr(uncached, array))
    # each preprocessing has its own cache
    load_run_data(prepared, split, "unit")
    assert len(counted) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".split.gcn_minmax.preprocessed.npz", ".split.unit.preprocessed.npz", "prepared.npz", "split.npz"]


def test_a_new_split_or_prepared_file_invalidates_the_cache(tmp_path, counted):
    prepared, split = write_inputs(tmp_path, seed=0)
    load_run_data(prepared, split, "unit")
    write_inputs(tmp_path, seed=1)  # another split (and the same prepared arrays, rewritten)
    again = load_run_data(prepared, split, "unit")
    assert len(counted) == 2
    arrays = dict(np.load(prepared))
    arrays["x_train"] = 255 - arrays["x_train"]
    save_npz(arrays, prepared)  # a new prepared file under the same name, the split unchanged
    changed = load_run_data(prepared, split, "unit")
    assert len(counted) == 3
    np.testing.assert_allclose(changed.x_train, 1 - again.x_train, atol=1e-6)


def test_an_unreadable_cache_is_computed_again(tmp_path, counted):
    prepared, split = write_inputs(tmp_path)
    first = load_run_data(prepared, split, "gcn_minmax")
    cache = preprocessing_cache_path(split, "gcn_minmax")
    cache.write_bytes(cache.read_bytes()[:50])
    second = load_run_data(prepared, split, "gcn_minmax")
    assert len(counted) == 2
    np.testing.assert_array_equal(second.x_train, first.x_train)
    assert np.load(cache)["x_train"].shape == first.x_train.shape  # rewritten whole


def test_concurrent_processes_share_one_cache(tmp_path):
    prepared, split = write_inputs(tmp_path)
    code = ("import sys, numpy as np; from ocbench.data import load_run_data; "
            "d = load_run_data(sys.argv[1], sys.argv[2], 'gcn_minmax'); print(float(np.abs(d.x_train).sum()))")
    processes = [subprocess.Popen([sys.executable, "-c", code, str(prepared), str(split)], stdout=subprocess.PIPE,
                                  text=True, cwd=ROOT) for _ in range(4)]
    sums = {p.communicate()[0].strip() for p in processes}
    assert all(p.returncode == 0 for p in processes)
    expected = float(np.abs(load_run_data(prepared, split, "gcn_minmax", cache=False).x_train).sum())
    assert sums == {str(expected)}
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".split")] == [
        ".split.gcn_minmax.preprocessed.npz"]  # no temporary file left behind


def test_a_large_split_is_not_cached(tmp_path, counted, monkeypatch):
    prepared, split = write_inputs(tmp_path)
    # 40 normal + 4 polluting (10 %) training rows and 30 test rows, 16 float32 values each: 4,736 bytes
    monkeypatch.setattr(data_module, "CACHE_MAX_BYTES", 4735)
    load_run_data(prepared, split, "unit")
    assert not preprocessing_cache_path(split, "unit").exists()
    monkeypatch.setattr(data_module, "CACHE_MAX_BYTES", 4736)
    load_run_data(prepared, split, "unit")
    assert preprocessing_cache_path(split, "unit").exists()
