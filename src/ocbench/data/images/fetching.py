"""What every image source's fetch does alike: refuse a mirror folder that does not exist, and
let torchvision download, with any failure turned into one line that says how to give a mirror."""
from __future__ import annotations

import socket
from pathlib import Path
from urllib.error import URLError

from ...errors import OcbenchError
from ...files import DOWNLOAD_TIMEOUT_S, one_line


def check_mirror_folder(name: str, mirror: Path) -> None:
    if not mirror.is_dir():
        raise OcbenchError(f"dataset {name!r}: mirror folder {mirror} does not exist; "
                           f"set config datasets.{name}.mirror to a folder holding the original files")


def download_with_torchvision(name: str, dataset_class, raw_dir: Path, tried: list[str], files: list[str],
                              **part) -> None:
    """Let torchvision download (it checks its md5 sums); turn any failure into one clear line.

    ``part``: the keyword that picks what to download (default ``train=True``).
    """
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        dataset_class(str(raw_dir), download=True, **(part or {"train": True}))
    except (URLError, OSError, RuntimeError) as exc:
        raise OcbenchError(
            f"dataset {name!r}: download failed ({one_line(exc)}); tried {' and '.join(tried)}; without "
            f"internet, put the original files ({', '.join(files)}) in a folder and set config "
            f"datasets.{name}.mirror to it") from None
    finally:
        socket.setdefaulttimeout(previous)
