"""ocbench.files: atomic writes leave no partial file, torch files are byte-reproducible."""
import hashlib

import pytest
import torch

from ocbench.errors import OcbenchError
from ocbench.files import atomic_path, download, one_line, save_torch, sha256_bytes, sha256_file, write_json


def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "metrics.json"
    write_json(target, {"auroc": 0.9})
    before = target.read_bytes()
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("job died")
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_same_state_gives_the_same_bytes(tmp_path):
    torch.manual_seed(0)
    state = {"network": torch.nn.Linear(3, 2).state_dict(), "R": 0.5}
    save_torch(state, tmp_path / "a" / "model.pt")
    save_torch(state, tmp_path / "b" / "model.pt")
    a, b = (tmp_path / "a" / "model.pt").read_bytes(), (tmp_path / "b" / "model.pt").read_bytes()
    assert a == b
    assert torch.load(tmp_path / "a" / "model.pt")["R"] == 0.5
    # what it guards against: a plain torch.save to two paths differs in its bytes
    torch.save(state, tmp_path / "c.pt")
    torch.save(state, tmp_path / "d.pt")
    assert (tmp_path / "c.pt").read_bytes() != (tmp_path / "d.pt").read_bytes()


def test_checksums_agree(tmp_path):
    (tmp_path / "f").write_bytes(b"ocbench")
    assert sha256_file(tmp_path / "f") == sha256_bytes(b"ocbench") == hashlib.sha256(b"ocbench").hexdigest()


def test_failed_download_says_what_and_how_to_do_without(tmp_path):
    out = tmp_path / "x.gz"
    with pytest.raises(OcbenchError, match=r"dataset 'mnist': cannot download .*; set a mirror"):
        download("http://127.0.0.1:9/x.gz", out, "dataset 'mnist'", "set a mirror")
    assert not out.exists()


def test_one_line():
    assert one_line(ValueError("a\n  b")) == "a b"
    assert one_line(KeyError()) == "KeyError"
