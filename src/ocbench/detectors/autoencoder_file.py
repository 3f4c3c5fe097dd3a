"""The pretrained autoencoder's file: what ``AutoencoderDetector.save`` writes and every
reader of a pretrained autoencoder loads (Deep SVDD, Deep SAD, RCAE, the hybrids, CAE).

Kept apart from the detectors so that the deep detectors' base (``deep.py``) reads the
file without importing the autoencoder detector, which itself builds on that base.
"""
from __future__ import annotations

from pathlib import Path

import torch

from ..errors import OcbenchError
from ..files import save_torch
from ..nets import build_autoencoder


def write_autoencoder(path, params: dict, autoencoder, threshold: float, train_losses: list) -> None:
    """Save a fitted autoencoder: its detector's parameters, weights, threshold and losses."""
    # io.save_torch: the same bytes for the same autoencoder
    save_torch({"params": params, "state_dict": autoencoder.state_dict(), "threshold": threshold,
                "train_losses": train_losses}, path)


def read_autoencoder(path: str | Path) -> tuple[dict, object, float, list]:
    """``(params, autoencoder, threshold, train_losses)`` of a file ``write_autoencoder`` wrote,
    the autoencoder on the CPU in evaluation mode."""
    try:
        saved = torch.load(path, map_location="cpu", weights_only=False)
        params = dict(saved["params"])
        autoencoder = build_autoencoder(params["net"])
        autoencoder.load_state_dict(saved["state_dict"])
    except OcbenchError:
        raise
    except Exception as err:  # a truncated or foreign file: say which one
        raise OcbenchError(f"cannot read the autoencoder file {path}: {err}") from None
    return params, autoencoder.eval(), saved["threshold"], saved["train_losses"]
