"""CIFAR-10 and CIFAR-100: torchvision's pickled batches, checked by torchvision's md5 sums (which
cover their content), from its ``.tar.gz`` archive or the folder it unpacks to, placed where
torchvision's class looks (``{raw_dir}/cifar-10-batches-py/``)."""
from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
import zlib
from pathlib import Path

from ...errors import OcbenchError
from ...files import md5_bytes, one_line
from .fetching import check_mirror_folder, download_with_torchvision


def _cifar_members(dataset_class) -> dict[str, str]:
    """File name → md5 of every file torchvision's CIFAR10/CIFAR100 checks (these md5 sums cover content)."""
    members = {file: md5 for file, md5 in dataset_class.train_list + dataset_class.test_list}
    members[dataset_class.meta["filename"]] = dataset_class.meta["md5"]
    return members


def _cifar_files_ok(folder: Path, members: dict[str, str]) -> bool:
    return all((folder / f).is_file() and md5_bytes((folder / f).read_bytes()) == md5 for f, md5 in members.items())


def _cifar_from_mirror(name: str, mirror: Path, dataset_class, folder: Path) -> None:
    members = _cifar_members(dataset_class)
    base = dataset_class.base_folder
    archive, extracted = mirror / dataset_class.filename, mirror / base
    folder.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".cifar-stage-"))
    try:
        if extracted.is_dir():
            origin = {f: extracted / f for f in members}
            for file, path in origin.items():
                if not path.is_file():
                    raise OcbenchError(f"dataset {name!r}: mirror folder {extracted} has no {file}; it needs "
                                       f"{', '.join(members)}")
                shutil.copyfile(path, stage / file)
        elif archive.is_file():
            origin = {f: f"{archive} (member {base}/{f})" for f in members}
            _extract_members(name, archive, base, members, stage)
        else:
            raise OcbenchError(f"dataset {name!r}: mirror folder {mirror} has neither {dataset_class.filename} "
                               f"nor the extracted folder {base}/")
        for file, md5 in members.items():
            if md5_bytes((stage / file).read_bytes()) != md5:
                raise OcbenchError(f"dataset {name!r}: {origin[file]} is not the original {file} of {name!r} "
                                   f"(md5 {md5_bytes((stage / file).read_bytes())}, expected {md5})")
        for file in members:
            os.replace(stage / file, folder / file)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _extract_members(name: str, archive: Path, base: str, members: dict[str, str], stage: Path) -> None:
    # Only the named members are read, by name, so a hostile archive cannot write elsewhere.
    try:
        with tarfile.open(archive, "r:*") as tar:
            for file in members:
                try:
                    source = tar.extractfile(f"{base}/{file}")
                except KeyError:
                    source = None
                if source is None:
                    raise OcbenchError(f"dataset {name!r}: archive {archive} has no member {base}/{file}")
                with source, open(stage / file, "wb") as out:
                    shutil.copyfileobj(source, out)
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise OcbenchError(f"dataset {name!r}: {archive} is not a readable tar.gz archive ({one_line(exc)})") \
            from None


#: torchvision's CIFAR archive and the folder it unpacks to (``filename`` and ``base_folder`` of its
#: CIFAR10/CIFAR100 classes; tests/unit/test_images.py checks they agree)
CIFAR_MIRROR_NAMES = {"cifar10": ("cifar-10-python.tar.gz", "cifar-10-batches-py"),
                      "cifar100": ("cifar-100-python.tar.gz", "cifar-100-python")}


def cifar_mirror_check(name: str):
    """A CIFAR mirror must hold torchvision's archive or the folder it unpacks to."""
    def check(mirror: Path) -> None:
        archive, extracted = CIFAR_MIRROR_NAMES[name]
        if not ((Path(mirror) / archive).is_file() or (Path(mirror) / extracted).is_dir()):
            raise OcbenchError(f"dataset {name!r}: mirror folder {mirror} has neither {archive} nor the extracted "
                               f"folder {extracted}/")

    return check


def cifar_fetcher(name: str, class_name: str):
    """``fetch`` of a CIFAR set through torchvision's class ``class_name``: downloaded, or from a mirror."""
    def fetch(raw_dir: Path, mirror: Path | None) -> None:
        import torchvision.datasets  # here: the registry is read without torchvision

        dataset_class = getattr(torchvision.datasets, class_name)
        folder = Path(raw_dir) / dataset_class.base_folder
        members = _cifar_members(dataset_class)
        if _cifar_files_ok(folder, members):
            return
        if mirror is None:
            download_with_torchvision(name, dataset_class, Path(raw_dir), [dataset_class.url],
                                      [dataset_class.filename])
            return
        check_mirror_folder(name, Path(mirror))
        _cifar_from_mirror(name, Path(mirror), dataset_class, folder)

    return fetch
