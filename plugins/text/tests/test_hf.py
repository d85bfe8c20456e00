"""hf-text: a transformers model by folder or by pinned repo revision (offline HF cache), safetensors only."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
from modahub_text.hf import HFText

import modahub
from modahub.executors import ExecutorError
from modahub.plugins import manager
from modahub.weights import WeightsError
from modahub_testing import EncoderContract

from .conftest import REV, pins

TEXTS = ["the cat sat on the mat", "stock market fell", "blue rain", "the the the dog"]


def docs() -> list[modahub.Document]:
    return [modahub.text(t) for t in TEXTS]


def test_manifest_leaves_space_and_dim_to_parameters() -> None:
    _, spec = manager().find_executor("hf-text")
    assert (spec.space, spec.dim, spec.kind) == (None, None, "encoder")


@pytest.mark.slow
def test_local_folder(tiny_model: Path) -> None:
    from sentence_transformers import SentenceTransformer

    enc = modahub.load("hf-text", model=str(tiny_model))
    assert (enc.space, enc.dim) == (f"local:{tiny_model.resolve()}", 32)
    got = enc.encode(docs())
    want = SentenceTransformer(str(tiny_model), device="cpu").encode(TEXTS, normalize_embeddings=True)
    assert got.shape == (4, 32)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(got, want, atol=1e-5)
    assert not np.allclose(got[0], got[1]), "different texts get different vectors"


def test_repo_revision_from_offline_hf_cache(tiny_model: Path, hf_home: Path) -> None:
    enc = HFText("tiny/bert", revision=REV, sha256=pins(tiny_model))
    assert (enc.space, enc.dim) == (f"tiny/bert@{REV}", 32)
    np.testing.assert_allclose(enc.encode(docs()), HFText(str(tiny_model)).encode(docs()), atol=1e-6)


def test_repo_weights_must_be_pinned_and_match(tiny_model: Path, hf_home: Path) -> None:
    with pytest.raises(WeightsError, match=r"tiny/bert@89ab.*: weights model.safetensors have no sha256 pin"):
        HFText("tiny/bert", revision=REV).warm_up()
    with pytest.raises(WeightsError, match="model.safetensors: sha256 .* does not match the pinned 0000"):
        HFText("tiny/bert", revision=REV, sha256={"model.safetensors": "0" * 64}).warm_up()
    with pytest.raises(WeightsError, match="revision 'main' is not a 40-hex commit id"):
        HFText("tiny/bert", revision="main")
    with pytest.raises(WeightsError, match="tiny/absent@89ab.* not in the Hugging Face cache"):
        HFText("tiny/absent", revision=REV)


def test_pickled_weights_file(tiny_model: Path, tmp_path: Path) -> None:
    folder = Path(shutil.copytree(tiny_model, tmp_path / "m"))
    (folder / "pytorch_model.bin").write_bytes(pickle.dumps({"w": 1}))
    with pytest.raises(WeightsError, match="pytorch_model.bin: pickle-based weights .* refused"):
        HFText(str(folder))


def test_missing_weights_file(tiny_model: Path, tmp_path: Path) -> None:
    folder = Path(shutil.copytree(tiny_model, tmp_path / "m"))
    (folder / "model.safetensors").unlink()
    with pytest.raises(WeightsError, match=r"missing weights file: no \*.safetensors in .*/m"):
        HFText(str(folder)).encode(docs())
    (folder / "config.json").unlink()
    with pytest.raises(WeightsError, match="missing weights file 'config.json'"):
        HFText(str(folder))


def test_custom_module_code_is_refused(tiny_model: Path, tmp_path: Path) -> None:
    folder = Path(shutil.copytree(tiny_model, tmp_path / "m"))
    (folder / "modules.json").write_text('[{"idx": 0, "name": "0", "path": "", "type": "evil.Module"}]')
    with pytest.raises(WeightsError, match="module type 'evil.Module' is not a sentence-transformers module"):
        HFText(str(folder))


def test_wrong_modality_and_empty_batch(tiny_model: Path) -> None:
    enc = HFText(str(tiny_model))
    with pytest.raises(ExecutorError, match="has modality 'audio'; this executor accepts text"):
        enc.encode([modahub.audio(np.zeros(16, np.float32), 16000)])
    with pytest.raises(ExecutorError, match="hf-text: empty batch"):
        enc.encode([])


class TestHFTextContract(EncoderContract):
    """The contract on the tiny random BERT that HFText.contract_params() builds."""

    executor = HFText
