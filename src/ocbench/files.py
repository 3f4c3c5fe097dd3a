"""Files: atomic writes, checksums, downloads and one-line error texts, in one place.

Every file a job writes goes through ``atomic_path``: it is written under a temporary
name beside its destination and renamed into place, so a reader (or a rerun after a
crash) never sees half a file. Torch files are written from memory, so the same
object always gives the same bytes (``torch.save`` to a path embeds the file's name,
here a random temporary one, in the archive).
"""
from __future__ import annotations

import contextlib
import hashlib
import http.client
import io
import json
import os
import shutil
import tempfile
import urllib.request
from pathlib import Path

import numpy as np

from .errors import OcbenchError

#: seconds before a stalled download is given up
DOWNLOAD_TIMEOUT_S = 60


def one_line(error: BaseException, limit: int = 300) -> str:
    """An exception as one line of text (its message, else its type's name), at most ``limit`` characters."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= limit else text[:limit - 3] + "..."


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path`` (same suffix); rename it onto ``path`` on success.

    The suffix is kept because some writers append their own (``np.savez`` adds ``.npz``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix or ".tmp")
    os.close(handle)
    tmp = Path(tmp)
    try:
        yield tmp
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; results are for every reader
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def staged_directory(final):
    """Yield an empty temporary directory that replaces ``final`` once the block succeeds."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.tmp-"))
    try:
        yield stage
        os.chmod(stage, 0o755)  # mkdtemp makes 0700
        _replace_directory(stage, final)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _replace_directory(stage: Path, final: Path) -> None:
    # rename() onto an existing non-empty directory fails, so the old one steps aside
    # first and is removed only after the new one is in place.
    if final.exists():
        old = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.old-"))
        os.replace(final, old / final.name)
        os.replace(stage, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(stage, final)


def write_bytes(path, content: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(content)


def write_json(path, data) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=json_default) + "\n")


def json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (set, tuple)):
        return list(value)
    return repr(value)


def save_torch(obj, path) -> None:
    """``torch.save`` with the same bytes for the same object, written atomically."""
    import torch  # here: the other writers serve jobs that never import torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    write_bytes(path, buffer.getvalue())


def sha256_bytes(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def sha256_file(path) -> str:
    return _file_digest(path, hashlib.sha256())


def md5_bytes(content: bytes) -> str:
    """The MD5 that torchvision's dataset classes pin (a checksum, not security)."""
    return hashlib.md5(content, usedforsecurity=False).hexdigest()


def md5_file(path) -> str:
    return _file_digest(path, hashlib.md5(usedforsecurity=False))


def _file_digest(path, digest) -> str:
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(url: str, out, what: str, remedy: str) -> None:
    """Download ``url`` to ``out``; on failure remove the partial file and raise one line.

    ``what`` names the thing downloaded (``dataset 'mnist'``), ``remedy`` says how to
    do without the internet (a mirror folder).
    """
    out = Path(out)
    request = urllib.request.Request(url, headers={"User-Agent": "ocbench"})
    try:
        with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT_S) as response, open(out, "wb") as file:
            shutil.copyfileobj(response, file)
    except (OSError, http.client.HTTPException) as error:  # URLError and timeouts are OSErrors
        out.unlink(missing_ok=True)
        reason = getattr(error, "reason", None) or error
        raise OcbenchError(f"{what}: cannot download {url} ({reason}); {remedy}") from None
