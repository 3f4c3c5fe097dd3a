"""What a training process pays once, before any clock: deterministic mode without torch's compiler."""
import json
import subprocess
import sys

from helpers.paths import ROOT


def run_python(code: str, **env) -> dict:
    import os

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT,
                         env={k: v for k, v in dict(os.environ, **env).items() if v is not None})
    return json.loads(out.stdout.strip().splitlines()[-1])


DETERMINISTIC = """
import json, os, sys, torch
from ocbench.training import deterministic_mode, seed_everything, set_deterministic_mode
before = deterministic_mode("cpu")["deterministic"]
set_deterministic_mode()
seed_everything(3)
a = torch.rand(3).tolist()
seed_everything(3)
print(json.dumps({"before": before, "cpu": deterministic_mode("cpu"), "cuda": deterministic_mode("cuda"),
                  "enabled": torch.are_deterministic_algorithms_enabled(), "same": a == torch.rand(3).tolist(),
                  "cublas": os.environ.get("CUBLAS_WORKSPACE_CONFIG"),
                  "compiler": [m for m in ("torch._inductor", "torch._dynamo") if m in sys.modules]}))
"""


def test_deterministic_mode_is_set_without_importing_the_compiler():
    result = run_python(DETERMINISTIC, CUBLAS_WORKSPACE_CONFIG=None)
    assert result["before"] is False and result["enabled"] is True and result["same"] is True
    assert result["compiler"] == []  # torch.use_deterministic_algorithms would have imported both
    assert result["cpu"] == {"deterministic": True, "warn_only": True, "cublas_workspace_config": None}
    assert result["cublas"] == ":4096:8"
    assert result["cuda"] == {"deterministic": True, "warn_only": True, "cublas_workspace_config": ":4096:8"}


def test_a_given_cublas_setting_is_kept_and_reported():
    result = run_python(DETERMINISTIC, CUBLAS_WORKSPACE_CONFIG=":0:0")
    assert result["cublas"] == ":0:0"
    assert result["cuda"]["deterministic"] is False and result["cpu"]["deterministic"] is True


def test_the_training_set_up_makes_the_first_fit_pay_no_import():
    code = """
import json, sys
from ocbench.training import set_up_training_process
set_up_training_process()
loaded = set(sys.modules)
import numpy as np
from ocbench.detectors.deep_svdd import DeepSVDD
loaded = set(sys.modules)
DeepSVDD(epochs=1, batch_size=8).fit(np.random.default_rng(0).random((16, 1, 28, 28), dtype=np.float32))
print(json.dumps(sorted(m for m in set(sys.modules) - loaded if m.startswith("torch."))))
"""
    assert run_python(code) == []
