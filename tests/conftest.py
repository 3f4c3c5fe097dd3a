import subprocess

import numpy as np
import pytest
import torch

from helpers.slurm import START, STOP, slurm_missing

# Two cores on the reference machine: keep torch from oversubscribing them in tests.
torch.set_num_threads(1)


@pytest.fixture
def blobs():
    """An easy problem: 200 normal points near the origin, 40 anomalies far from it (10-D)."""
    rng = np.random.default_rng(0)
    normal = rng.normal(0.0, 1.0, size=(240, 10)).astype(np.float32)
    anomalies = rng.normal(6.0, 1.0, size=(40, 10)).astype(np.float32)
    x_train = normal[:200]
    x_test = np.concatenate([normal[200:], anomalies])
    y_test = np.r_[np.zeros(40), np.ones(40)].astype(int)
    return x_train, x_test, y_test


@pytest.fixture(scope="module")
def slurm_cluster():
    """The one-node SLURM cluster of tests/slurm/start_cluster.sh for a module's tests: started, and
    stopped after them, unless it ran already; skipped, with the reason, where SLURM is absent."""
    reason = slurm_missing()
    if reason:
        pytest.skip(reason)
    started = subprocess.run(["bash", str(START)], capture_output=True, text=True, timeout=120)
    if started.returncode == 2:
        pytest.skip(started.stderr.strip())
    assert started.returncode == 0, started.stdout + started.stderr
    yield
    if "already running" not in started.stdout:
        subprocess.run(["bash", str(STOP)], capture_output=True, text=True, timeout=60)
