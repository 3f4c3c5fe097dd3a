"""Argument types shared by the job commands (``cli``) and the report commands."""
from __future__ import annotations

import argparse
import json


def json_object(text: str) -> dict:
    """A JSON object given on the command line (hyper-parameters, split settings)."""
    try:
        value = json.loads(text) if text else {}
    except json.JSONDecodeError as err:
        raise argparse.ArgumentTypeError(f"not valid JSON ({err}): {text!r}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object, got {text!r}")
    return value
