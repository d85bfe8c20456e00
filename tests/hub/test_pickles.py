"""Weights that cannot run code: allowed data formats publish and install; pickles in every disguise the
tests can build (protocols 0-5, a torch.save file, compressed, object-dtype numpy, a truncated stream
that still runs code) are refused at publish, and again at install when a signed registry holds one."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import pickle
import re
import tarfile
import zlib

import numpy as np
import pytest
from click.testing import CliRunner
from crafted import add_file, resign
from hub_wheels import make_wheel, publish_unchecked

from modahub_hub.cli import cli
from modahub_hub.hub import HubError
from modahub_hub.hub import install as install_module
from modahub_hub.hub.backends import FolderBackend
from modahub_hub.hub.trust import load_verified


class Payload:
    """Unpickling this runs a shell command."""

    def __reduce__(self):
        return (os.system, ("touch /tmp/modahub-pwned",))


def _npy(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    np.save(out, array, allow_pickle=True)
    return out.getvalue()


def _npz(**arrays: np.ndarray) -> bytes:
    out = io.BytesIO()
    np.savez(out, **arrays)
    return out.getvalue()


def _torch_save() -> bytes:
    import torch

    out = io.BytesIO()
    torch.save({"w": torch.zeros(2)}, out)
    return out.getvalue()


def _tar(name: str, data: bytes) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tf:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _safetensors() -> bytes:
    from safetensors.numpy import save

    return save({"w": np.arange(6, dtype=np.float32).reshape(2, 3)})


def _onnx() -> bytes:
    from onnx import TensorProto, helper

    node = helper.make_node("Identity", ["x"], ["y"])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    return helper.make_model(graph).SerializeToString()


PICKLED = {
    "protocol 0": ("weights.dat", lambda: pickle.dumps(Payload(), protocol=0)),
    "protocol 0 as text": ("weights.txt", lambda: pickle.dumps(Payload(), protocol=0)),
    "protocol 0, a plain dict": ("weights.dat", lambda: pickle.dumps({"w": [1.0, 2.0]}, protocol=0)),
    "protocol 1": ("weights.dat", lambda: pickle.dumps(Payload(), protocol=1)),
    "protocol 5": ("weights.bin", lambda: pickle.dumps(Payload(), protocol=5)),
    "runs code, then garbage": ("weights.dat", lambda: pickle.dumps(Payload(), protocol=0)[:-1] + b"\xff garbage"),
    "gzip": ("weights.gz", lambda: gzip.compress(pickle.dumps(Payload()))),
    "bz2": ("weights.dat", lambda: bz2.compress(pickle.dumps(Payload()))),
    "xz": ("weights.dat", lambda: lzma.compress(pickle.dumps(Payload()))),
    "zlib (joblib)": ("weights.z", lambda: zlib.compress(pickle.dumps(Payload()))),
    "tar": ("weights.tar", lambda: _tar("inner.pkl", pickle.dumps(Payload()))),
    "torch.save as .bin": ("model.bin", _torch_save),
    "pickle named .onnx": ("model.onnx", lambda: pickle.dumps(Payload())),
    "pickle named .npy": ("weights.npy", lambda: pickle.dumps(Payload())),
    "object-dtype .npy": ("weights.npy", lambda: _npy(np.array([{"a": 1}, None], dtype=object))),
    "object-dtype .npy named .dat": ("weights.dat", lambda: _npy(np.array([None], dtype=object))),
    "object-dtype in .npz": ("weights.npz", lambda: _npz(ok=np.arange(3), bad=np.array([None], dtype=object))),
    ".pt suffix": ("weights.pt", lambda: b"anything"),
    "broken safetensors": ("weights.safetensors", lambda: pickle.dumps(Payload())),
}
ALLOWED = {
    "safetensors": ("w.safetensors", _safetensors),
    "onnx": ("model.onnx", _onnx),
    "npy": ("w.npy", lambda: _npy(np.arange(12, dtype=np.float32))),
    "npz": ("w.npz", lambda: _npz(a=np.arange(3), b=np.ones((2, 2)))),
    "json": ("config.json", lambda: b'{"dim": 4}'),
    "text": ("vocab.txt", lambda: b"hello\nworld\n"),
    "png": ("logo.png", lambda: b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8),
}


@pytest.mark.parametrize("case", sorted(PICKLED))
def test_publish_refuses_pickled_data(hub_dir, key, wheel, case):
    name, build = PICKLED[case]
    path = wheel("modahub-toy", extra_files={f"modahub_toy/{name}": build()})
    with pytest.raises(HubError, match=f"could run code when loaded is refused: modahub_toy/{re.escape(name)} "):
        publish_unchecked(path, str(hub_dir), key=key, owner="acme")
    assert load_verified(FolderBackend(hub_dir)).plugins == {}


def test_publish_accepts_the_allowed_formats(hub_dir, key, wheel):
    files = {f"modahub_toy/{name}": build() for name, build in ALLOWED.values()}
    publish_unchecked(wheel("modahub-toy", extra_files=files), str(hub_dir), key=key, owner="acme")
    assert list(load_verified(FolderBackend(hub_dir)).plugins) == ["modahub-toy"]


@pytest.mark.parametrize("case", ["protocol 0", "torch.save as .bin", "object-dtype .npy", "gzip"])
def test_install_refuses_pickled_data_that_a_signed_registry_holds(hub_dir, key, tmp_path, monkeypatch, case):
    calls = []
    monkeypatch.setattr(install_module, "pip_install", lambda wheels, reqs, txn, weights=(): calls.append(wheels))
    publish_unchecked(make_wheel(tmp_path / "clean", "modahub-toy"), str(hub_dir), key=key, owner="acme")
    name, build = PICKLED[case]
    bad = make_wheel(tmp_path / "bad", "modahub-toy", "0.2.0", extra_files={f"modahub_toy/{name}": build()})
    art = add_file(hub_dir, f"artifacts/{bad.name}", bad)

    def edit(data):
        versions = data["plugins"]["modahub-toy"]["versions"]
        versions["0.2.0"] = dict(versions["0.1.0"], version="0.2.0", artifact=art, published_at="2030-01-01T00:00:00Z")

    resign(hub_dir, key, edit)
    result = CliRunner().invoke(cli, ["install", "modahub-toy==0.2.0", "--hub", str(hub_dir)])
    assert result.exit_code == 1 and "could run code when loaded is refused" in result.stderr
    assert "Traceback" not in result.stderr and calls == []
