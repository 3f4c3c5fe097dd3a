"""ocbench: a reproducible benchmark of deep one-class anomaly detection.

A regular package (not a namespace package), so that two checkouts on one path never
merge silently. Importing it imports nothing heavy: torch, scikit-learn and
torchvision are imported by the modules that use them.
"""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ocbench")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"
