"""GTSRB: torchvision's three zip archives (checked by its md5 sums, then unpacked where its ``GTSRB``
class puts them), and every sign cropped by its annotation box and resized to 32×32."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from ...errors import OcbenchError
from ...files import md5_file, one_line, write_bytes
from .fetching import check_mirror_folder, download_with_torchvision

#: the class whose images are normal in the papers' experiment (Deep SVDD, OC-NN): the stop sign
GTSRB_STOP_SIGN = 14
GTSRB_SIZE = 32  # every crop is resized to 32×32 (RGB), as in the Deep SVDD paper
#: torchvision's GTSRB archives: file name -> md5, as ``torchvision.datasets.GTSRB.download`` pins them
#: (there they are literals, not attributes; tests/unit/test_adversarial.py checks that they agree)
GTSRB_URL = "https://sid.erda.dk/public/archives/daaeac0d7ce1152aea9b61d9f1e19370/"
GTSRB_ARCHIVES = {"GTSRB-Training_fixed.zip": "513f3c79a4c5141765e10e952eaa2478",
                  "GTSRB_Final_Test_Images.zip": "c7e4e6327067d32654124b0fe9e82185",
                  "GTSRB_Final_Test_GT.zip": "fe31e9c9270bbcd7b84b7f21a9d9d9e5"}
#: written once the verified archives are unpacked (their md5 sums)
GTSRB_RECORD = ".ocbench-archives.json"
_ANNOTATION_HELP = ("GTSRB's annotation files give each sign's box and the test classes: GT-<class>.csv in each "
                    "training folder (GTSRB-Training_fixed.zip) and GT-final_test.csv (GTSRB_Final_Test_GT.zip)")


def gtsrb_folders(raw_dir: Path) -> tuple[Path, Path, Path]:
    """(training folder, test image folder, test annotation file): where torchvision's ``GTSRB`` class
    unpacks the archives under ``root/gtsrb`` and looks for them."""
    base = Path(raw_dir) / "gtsrb"
    return base / "GTSRB" / "Training", base / "GTSRB" / "Final_Test" / "Images", base / "GT-final_test.csv"


def check_gtsrb_mirror(mirror: Path) -> None:
    """A GTSRB mirror must hold torchvision's three archives (cheap: names only, checked before any job)."""
    missing = [name for name in GTSRB_ARCHIVES if not (Path(mirror) / name).is_file()]
    if missing:
        what = " (the annotation file of the test set)" if missing == ["GTSRB_Final_Test_GT.zip"] else ""
        raise OcbenchError(f"dataset 'gtsrb': mirror folder {mirror} has no {', '.join(missing)}{what}; it needs "
                           f"torchvision's archives {', '.join(GTSRB_ARCHIVES)} from {GTSRB_URL}")


def _gtsrb_fetched(raw_dir: Path) -> bool:
    try:
        recorded = json.loads((Path(raw_dir) / "gtsrb" / GTSRB_RECORD).read_text())
    except (OSError, ValueError):
        return False
    return recorded == GTSRB_ARCHIVES and all(path.exists() for path in gtsrb_folders(raw_dir))


def fetch_gtsrb(raw_dir: Path, mirror: Path | None) -> None:
    from torchvision.datasets import GTSRB  # here: the registry is read without torchvision
    from torchvision.datasets.utils import extract_archive

    raw_dir = Path(raw_dir)
    if _gtsrb_fetched(raw_dir):
        return
    if mirror is None:  # torchvision downloads, checks its md5 sums and unpacks
        for part in ("train", "test"):
            download_with_torchvision("gtsrb", GTSRB, raw_dir, [GTSRB_URL], list(GTSRB_ARCHIVES), split=part)
    else:
        mirror = Path(mirror)
        check_mirror_folder("gtsrb", mirror)
        check_gtsrb_mirror(mirror)
        for name, md5 in GTSRB_ARCHIVES.items():
            found = md5_file(mirror / name)
            if found != md5:
                raise OcbenchError(f"dataset 'gtsrb': {mirror / name} is not torchvision's {name} (md5 {found}, "
                                   f"expected {md5})")
        for name in GTSRB_ARCHIVES:  # the publisher's archives, byte for byte: unpacked as torchvision does
            extract_archive(mirror / name, raw_dir / "gtsrb")
    write_bytes(raw_dir / "gtsrb" / GTSRB_RECORD, json.dumps(GTSRB_ARCHIVES, indent=1).encode())


def _read_annotations(path: Path) -> list[dict]:
    """Rows of one GTSRB annotation file (``Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId``)."""
    if not path.is_file():
        raise OcbenchError(f"dataset 'gtsrb': annotation file {path} is missing; {_ANNOTATION_HELP}; "
                           "fetch the dataset again (`ocbench fetch`)")
    try:
        with open(path, newline="") as handle:
            rows = list(csv.DictReader(handle, delimiter=";", skipinitialspace=True))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise OcbenchError(f"dataset 'gtsrb': annotation file {path} is unreadable ({one_line(exc)})") from None
    needed = ("Filename", "Roi.X1", "Roi.Y1", "Roi.X2", "Roi.Y2", "ClassId")
    if not rows or any(key not in rows[0] for key in needed):
        raise OcbenchError(f"dataset 'gtsrb': annotation file {path} lacks the columns {', '.join(needed)}")
    return rows


def gtsrb_crop(path: Path, row: dict) -> np.ndarray:
    """One sign: the image cropped to its annotated box, resized to 32×32 RGB (bilinear), uint8 C×H×W.

    The box is ``[Roi.X1, Roi.X2) × [Roi.Y1, Roi.Y2)`` (columns × rows), which removes the
    border of about 10 % that GTSRB leaves around each sign (the Deep SVDD paper's crop).
    """
    from PIL import Image  # here: only GTSRB is decoded from image files

    try:
        box = tuple(int(row[key]) for key in ("Roi.X1", "Roi.Y1", "Roi.X2", "Roi.Y2"))
        with Image.open(path) as image:
            sign = image.convert("RGB").crop(box).resize((GTSRB_SIZE, GTSRB_SIZE), Image.BILINEAR)
    except (OSError, ValueError) as exc:
        raise OcbenchError(f"dataset 'gtsrb': cannot read the sign of {path} ({one_line(exc)})") from None
    return np.asarray(sign, dtype=np.uint8).transpose(2, 0, 1)


def _gtsrb_part(folder: Path, rows: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    images = np.empty((len(rows), 3, GTSRB_SIZE, GTSRB_SIZE), dtype=np.uint8)
    for i, row in enumerate(rows):
        images[i] = gtsrb_crop(folder / row["Filename"], row)
    return images, np.array([int(row["ClassId"]) for row in rows], dtype=np.int64)


def prepare_gtsrb(raw_dir: Path) -> dict[str, np.ndarray]:
    """Every sign of GTSRB's official training and test sets, cropped by its annotation and resized to 32×32.

    Training: the class folders of ``GTSRB/Training`` in order, each in the order of its
    ``GT-<class>.csv``; test: the order of ``GT-final_test.csv``. The class ids are those of
    the annotation files (the stop sign is class 14).
    """
    train_folder, test_folder, test_annotations = gtsrb_folders(Path(raw_dir))
    if not train_folder.is_dir() or not test_folder.is_dir():
        raise OcbenchError(f"dataset 'gtsrb': raw files not found in {raw_dir} (no {train_folder} or "
                           f"{test_folder}); fetch them first (`ocbench fetch`)")
    class_folders = sorted(p for p in train_folder.iterdir() if p.is_dir())
    train_rows = {folder: _read_annotations(folder / f"GT-{folder.name}.csv") for folder in class_folders}
    test_rows = _read_annotations(test_annotations)
    parts = [_gtsrb_part(folder, rows) for folder, rows in train_rows.items()]
    x_test, y_test = _gtsrb_part(test_folder, test_rows)
    return {"x_train": np.concatenate([x for x, _ in parts]), "y_train": np.concatenate([y for _, y in parts]),
            "x_test": x_test, "y_test": y_test}
