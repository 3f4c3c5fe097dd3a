"""The GPU run (benchmarks/gpu/, docs/benchmarks.md "The GPU run"), without a GPU: its wheel
list agrees with the project's pins, its configs validate and keep the presets' recipes, its
chunks grow, and the pace rule that starts a chunk is checked on numbers worked by hand.
The run itself is proven by `bash benchmarks/gpu/run.sh OUTDIR --tiny` (minutes, not a test)."""
import copy
import re
from pathlib import Path

import pytest
import yaml

from helpers.paths import ROOT
from helpers.scripts import load_script
from ocbench.config import load_and_validate

GPU = ROOT / "benchmarks" / "gpu"
MIRROR = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture(scope="module")
def gpu_run():
    return load_script(GPU / "run.py", "gpu_run")


def pins(path: Path) -> dict[str, str]:
    """name -> version of every `name==version` line (names normalised as pip does)."""
    found = {}
    for line in path.read_text().splitlines():
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", line.strip())
        if match:
            found[re.sub(r"[-_.]+", "-", match[1]).lower()] = match[2]
    return found


def test_wheels_pin_what_the_project_pins():
    carried = pins(GPU / "wheels.txt") | pins(GPU / "wheels-build.txt")
    project = pins(ROOT / "requirements" / "library.txt") | pins(ROOT / "requirements" / "workflow.txt")
    assert {name: carried[name] for name in carried.keys() & project.keys()} == \
        {name: project[name] for name in carried.keys() & project.keys()}
    # the workflow's pins that a GPU machine lacks travel; the plugin for SLURM is not needed there
    for name in ("snakemake", "psutil", "jsonschema", "pyyaml", "statsmodels", "scikit-posthocs", "finch-clust"):
        assert name in carried, name
    # what the machine has is not carried again (a second copy would shadow its own)
    for name in ("torch", "torchvision", "numpy", "pandas", "scikit-learn", "seaborn", "matplotlib", "scipy"):
        assert name not in carried, name


def test_the_one_class_preset_is_the_table(gpu_run):
    preset = yaml.safe_load(gpu_run.ONECLASS_PRESET.read_text())
    assert preset["seeds"] == list(range(1, 11))
    assert preset["datasets"]["fmnist"]["normal_classes"] == list(range(10))
    assert sorted(preset["methods"]) == ["cae", "deep_svdd_oneclass", "deep_svdd_softboundary"]
    assert preset["training"]["network"]["epochs"] == preset["training"]["autoencoder"]["epochs"] == 150
    assert gpu_run.ONECLASS_CHUNKS[-1] == preset["seeds"]


@pytest.mark.parametrize("tiny", [False, True], ids=["full", "tiny"])
def test_the_configs_validate(gpu_run, tmp_path, tiny):
    configs = [gpu_run.oneclass_config([1, 2], tmp_path, MIRROR, tiny)]
    configs += [gpu_run.deep_sad_config(variant, [1], [0, 3], tmp_path, MIRROR, tiny, ssad)
                for variant in gpu_run.VARIANTS for ssad in (True, False)]
    for config in configs:
        config["datasets"]["fmnist"].pop("mirror")  # validated where Debian's folder is absent too
        load_and_validate(copy.deepcopy(config))
        assert config["devices"] == (["cpu"] if tiny else ["cuda"])
        assert config["datadir"] == str(tmp_path / "data")


def test_deep_sad_keeps_the_presets_recipe(gpu_run, tmp_path):
    preset = yaml.safe_load(gpu_run.DEEP_SAD_PRESET.read_text())
    transfer = gpu_run.deep_sad_config("transfer", [1, 2, 3], range(10), tmp_path, MIRROR, False)
    plain = gpu_run.deep_sad_config("no_transfer", [1, 2, 3], range(10), tmp_path, MIRROR, False)
    assert transfer["training"] == preset["training"]
    assert plain["training"] == dict(preset["training"], pretrain=False)
    assert transfer["methods"] == ["deep_sad", "ss_dgm", "supervised", "ssad_hybrid"]
    assert plain["methods"] == ["deep_sad", "supervised"]
    setting = transfer["settings"]["gamma_l_0.01"]
    assert setting == dict(preset["settings"]["gamma_l_0.01"], known_outlier_class=list(range(10)))
    fmnist = {k: v for k, v in transfer["datasets"]["fmnist"].items() if k not in ("mirror", "settings")}
    assert fmnist == preset["datasets"]["fmnist"]
    assert transfer["outdir"] != plain["outdir"]
    without = gpu_run.deep_sad_config("transfer", [1], [0], tmp_path, MIRROR, False, ssad=False)
    assert "ssad_hybrid" not in without["methods"]


def test_chunks_grow(gpu_run):
    """Each chunk holds the grid of the one before, so its report covers everything finished."""
    for chunks in (gpu_run.ONECLASS_CHUNKS, [[(s, k) for s in seeds for k in known]
                                             for seeds, known in gpu_run.DEEP_SAD_CHUNKS]):
        for before, after in zip(chunks, chunks[1:]):
            assert set(before) < set(after)
    assert gpu_run.DEEP_SAD_CHUNKS[-1] == ([1, 2, 3], list(range(10)))
    assert gpu_run.new_batches(None, [1, 2]) == 2
    assert gpu_run.new_batches([(1, 0)], [(1, 0), (1, 1), (1, 2)]) == 2


def test_a_chunk_starts_when_it_fits_at_the_last_pace(gpu_run):
    # the first chunk starts whenever more than MIN_CHUNK_SECONDS are left
    assert gpu_run.chunk_fits(None, 0, 2, gpu_run.MIN_CHUNK_SECONDS + 1)
    assert not gpu_run.chunk_fits(None, 0, 2, gpu_run.MIN_CHUNK_SECONDS)
    # the last chunk: 2 batches in 100 s, 50 s a batch; 3 more need 150 s
    assert gpu_run.chunk_fits(100.0, 2, 3, 150.0)
    assert not gpu_run.chunk_fits(100.0, 2, 3, 149.0)


def test_the_shares_fill_the_budget(gpu_run):
    assert sum(gpu_run.SHARES.values()) == pytest.approx(1.0)
    assert list(gpu_run.SHARES) == ["calibration", "stacked", "oneclass", "deep_sad"]
