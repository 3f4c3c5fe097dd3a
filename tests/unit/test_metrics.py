import json
import math

import numpy as np
import pytest

from ocbench.errors import OcbenchError
from ocbench.metrics import peak_memory_mb, run_metrics, versions

# Six test samples, anomalies positive:
#   index   0    1    2     3    4    5
#   label   0    0    1     0    1    1
#   score  0.1  0.4  0.35  0.8  0.9  0.7
# Ranked by score: 0.9(1) 0.8(0) 0.7(1) 0.4(0) 0.35(1) 0.1(0).
# AUROC: of the 3×3 (anomaly, normal) pairs, the anomaly scores higher in
#   3 (0.9) + 2 (0.7) + 1 (0.35) = 6, so 6/9 = 2/3.
# AUPR (average precision, sum over the anomalies of precision at their rank / 3):
#   (1/1 + 2/3 + 3/5) / 3 = 34/45.
# Threshold 0.75 flags scores 0.8 and 0.9: TP = 1 (0.9), FP = 1 (0.8), FN = 2, TN = 2,
#   precision 1/2, recall 1/3, accuracy 3/6 = 1/2.
LABELS = np.array([0, 0, 1, 0, 1, 1])
SCORES = np.array([0.1, 0.4, 0.35, 0.8, 0.9, 0.7])


def test_hand_worked_example():
    metrics = run_metrics(LABELS, SCORES, 0.75)
    assert metrics["auroc"] == pytest.approx(2 / 3)
    assert metrics["aupr"] == pytest.approx(34 / 45)
    assert metrics["precision"] == pytest.approx(1 / 2)
    assert metrics["recall"] == pytest.approx(1 / 3)
    assert metrics["accuracy"] == pytest.approx(1 / 2)
    assert metrics["threshold"] == 0.75
    assert metrics["n_test"] == 6 and metrics["n_anomalies"] == 3


def test_a_score_equal_to_the_threshold_is_normal():
    # threshold 0.8: only 0.9 is strictly above -> TP 1, FP 0, FN 2, TN 3
    metrics = run_metrics(LABELS, SCORES, 0.8)
    assert metrics["precision"] == 1.0
    assert metrics["recall"] == pytest.approx(1 / 3)
    assert metrics["accuracy"] == pytest.approx(4 / 6)


def test_nothing_flagged_gives_zero_precision_not_an_error():
    metrics = run_metrics(LABELS, SCORES, 10.0)
    assert metrics["precision"] == 0.0 and metrics["recall"] == 0.0
    assert metrics["accuracy"] == pytest.approx(0.5)


def test_single_class_gives_nan_ranking_metrics():
    metrics = run_metrics(np.zeros(4, dtype=int), [0.1, 0.2, 0.3, 0.4], 0.25)
    assert math.isnan(metrics["auroc"]) and math.isnan(metrics["aupr"])
    assert metrics["accuracy"] == 0.5 and metrics["n_anomalies"] == 0


def test_metrics_are_plain_json_numbers():
    text = json.dumps(run_metrics(LABELS, SCORES, 0.75))
    assert json.loads(text)["aupr"] == pytest.approx(34 / 45)


@pytest.mark.parametrize("labels, scores, match", [
    ([0, 1], [0.1, 0.2, 0.3], "2 labels but 3 scores"),
    ([0, 2], [0.1, 0.2], "must be 0"),
    ([0, 1], [0.1, float("nan")], "not finite"),
    ([], [], "no test samples"),
])
def test_bad_inputs_raise(labels, scores, match):
    with pytest.raises(OcbenchError, match=match):
        run_metrics(labels, scores, 0.0)


def test_peak_memory_is_the_process_peak_in_mib():
    """Touching 256 MiB on top of the resident set raises the reported peak to at least their sum."""
    def resident_mib():
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024

    resident = resident_mib()
    block = np.ones(256 * 2**20 // 8)  # written, so resident
    assert peak_memory_mb() >= resident + 0.95 * 256
    assert peak_memory_mb() >= resident_mib() - 1
    del block


def test_versions_name_the_libraries():
    found = versions()
    assert {"python", "ocbench", "numpy", "sklearn"} <= set(found)
    assert found["numpy"] == np.__version__
    assert all(isinstance(v, str) for v in found.values())
