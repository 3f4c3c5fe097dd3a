"""Run directories as the workflow writes them, for the report's tests."""
import json

import numpy as np
import pandas as pd

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
N_TEST = 20


def write_run(root, dataset, setting, normal_classes, seed, method, auroc, device="cpu", status="ok",
              with_keys=True):
    """A run directory as ``runs.run_method`` writes it: metrics.json and scores.csv."""
    normal = "-".join(str(c) for c in sorted(normal_classes))
    run_dir = root / "runs" / dataset / setting / normal / f"seed{seed}" / method / device
    run_dir.mkdir(parents=True)
    metrics = {"auroc": auroc, "aupr": 0.5, "threshold": 1.5, "precision": 0.6, "recall": 0.7, "accuracy": 0.8,
               "n_test": N_TEST, "n_anomalies": 10, "train_time_s": 2.0, "test_time_s": 0.5,
               "peak_memory_mb": 300.0, "status": status, "versions": {"python": "3.11"}, "n_train": 50,
               "n_validation": 0}
    if with_keys:
        metrics.update(dataset=dataset, setting=setting, normal_classes=list(normal_classes), seed=seed,
                       method=method, device=device)
    (run_dir / "metrics.json").write_text(json.dumps(metrics))
    rng = np.random.default_rng(seed)
    labels = np.r_[np.zeros(10, int), np.ones(10, int)]
    scores = rng.normal(size=N_TEST) + 1.5 * labels
    pd.DataFrame({"index": np.arange(N_TEST), "label": labels, "score": scores}).to_csv(
        run_dir / "scores.csv", index=False)
    return run_dir
