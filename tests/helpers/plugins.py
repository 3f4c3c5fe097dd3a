"""Plugin files for the tests: those docs/extending.md shows (taken from the page itself), and a
kNN-distance method whose constructor and declared hyper-parameter a test chooses."""
import re
from pathlib import Path

from helpers.paths import ROOT

DOC = ROOT / "docs" / "extending.md"


def doc_files() -> dict[str, str]:
    """The files the page shows, by name: each code block under a `<!-- file: NAME -->` line."""
    files = dict(re.findall(r"<!-- file: (\S+) -->\n```\w*\n(.*?)```", DOC.read_text(), re.S))
    assert set(files) == {"toy_plugin.py", "experiment.yaml", "deep_plugin.py", "deep_experiment.yaml"}
    return files


def write_doc_files(folder: Path) -> None:
    for name, text in doc_files().items():
        (folder / name).write_text(text)


KNN_PLUGIN = """\
import numpy as np

from ocbench.detectors import MethodSpec
from ocbench.detectors.base import Detector
from ocbench.detectors.params import positive_int
from ocbench.plugins import register_method


class KNNDistance(Detector):
    \"\"\"Anomaly score: the distance to the k-th nearest training sample.\"\"\"

    def __init__(self, {arguments}):
{stores}

    def fit(self, X, y=None):
        self.train_ = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
        return self.set_training_scores(self.decision_function(X))

    def decision_function(self, X):
        X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
        distances = np.sqrt(((X[:, None, :] - self.train_[None, :, :]) ** 2).sum(axis=2))
        return np.sort(distances, axis=1)[:, min(self.n_neighbors, self.train_.shape[0] - 1)]


register_method("{method}", MethodSpec("KNNDistance", "shallow",
                                       hyper_parameters={{"{declared}": positive_int()}}, short_name="{method}"),
                KNNDistance)
"""


def knn_plugin(folder: Path, arguments: str = "n_neighbors=5, seed=0", declared: str = "n_neighbors",
               method: str = "knn") -> Path:
    """A kNN-distance method as a plugin file, ``{method}_plugin.py``; ``arguments``: its constructor's,
    ``declared``: the hyper-parameter its MethodSpec declares."""
    names = [argument.split("=")[0].strip() for argument in arguments.split(",")]
    path = folder / f"{method}_plugin.py"
    path.write_text(KNN_PLUGIN.format(arguments=arguments, declared=declared, method=method,
                                      stores="\n".join(f"        self.{name} = {name}" for name in names)))
    return path
