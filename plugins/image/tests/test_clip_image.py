"""clip-image on a tiny random CLIP the test saves: equal to transformers, pinned and verified weights, errors."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from modahub_image.clip import ClipImageEncoder

import modahub
from modahub.executors import ExecutorError
from modahub.files import sha256_file
from modahub.weights import WeightsError
from modahub_testing import EncoderContract

REV = "0123456789abcdef0123456789abcdef01234567"


def _images() -> list:
    rng = np.random.default_rng(0)
    shapes = [(40, 50, 3), (20, 20, 1), (33, 31, 4), (64, 64, 3)]
    return [modahub.image(rng.integers(0, 256, s, dtype=np.uint8), id=f"i{n}") for n, s in enumerate(shapes)]


def _reference(folder, docs) -> np.ndarray:
    """What transformers' own CLIPModel computes for the same images."""
    import torch
    from modahub_image.clip import to_rgb
    from transformers import CLIPModel

    model = CLIPModel.from_pretrained(folder, use_safetensors=True, local_files_only=True).eval()
    processor = ClipImageEncoder._make_processor(folder, 32)
    batch = processor(images=[to_rgb(d.payload.pixels) for d in docs], return_tensors="pt")
    with torch.no_grad():
        pooled = model.vision_model(pixel_values=batch["pixel_values"]).pooler_output
        feats = model.visual_projection(pooled)
    return torch.nn.functional.normalize(feats, dim=-1).numpy()


def test_local_folder_matches_transformers(tiny_clip):
    enc = modahub.load("clip-image", model=str(tiny_clip), batch_size=3)
    assert enc.space == "clip:tiny-clip@local"
    assert enc.dim == 24
    docs = _images()
    vecs = enc.encode(docs)
    assert vecs.shape == (4, 24)
    np.testing.assert_allclose(vecs, _reference(tiny_clip, docs), atol=1e-5)


def test_repo_id_at_pinned_revision_from_the_offline_cache(tiny_clip, tmp_path, monkeypatch):
    snapshot = tmp_path / "hub" / "models--tiny--clip" / "snapshots" / REV
    shutil.copytree(tiny_clip, snapshot)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    pin = {"model.safetensors": sha256_file(tiny_clip / "model.safetensors")}
    enc = ClipImageEncoder("tiny/clip", revision=REV, sha256=pin)
    assert enc.space == f"clip:tiny/clip@{REV}"
    docs = _images()[:2]
    np.testing.assert_allclose(enc.encode(docs), ClipImageEncoder(tiny_clip).encode(docs), atol=1e-6)


def test_unpinned_or_uncached_repo_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(WeightsError, match="pin a revision"):
        ClipImageEncoder("tiny/clip").encode(_images()[:1])
    with pytest.raises(WeightsError, match="not in the Hugging Face cache"):
        ClipImageEncoder("tiny/clip", revision=REV).encode(_images()[:1])


def test_sha256_mismatch(tiny_clip):
    with pytest.raises(WeightsError, match="does not match the pinned"):
        ClipImageEncoder(tiny_clip, sha256={"model.safetensors": "0" * 64}).encode(_images()[:1])


def test_missing_weights_file(tiny_clip, tmp_path):
    folder = tmp_path / "no-weights"
    shutil.copytree(tiny_clip, folder, ignore=shutil.ignore_patterns("*.safetensors"))
    with pytest.raises(WeightsError, match=r"no \*.safetensors weights file"):
        ClipImageEncoder(folder).encode(_images()[:1])


def test_pickled_weights_file(tiny_clip, tmp_path):
    import torch

    folder = tmp_path / "pickled"
    shutil.copytree(tiny_clip, folder)
    torch.save({"w": torch.zeros(2)}, folder / "pytorch_model.bin")
    with pytest.raises(WeightsError, match="pickle"):
        ClipImageEncoder(folder).encode(_images()[:1])


def test_wrong_modality_and_empty_batch(tiny_clip):
    enc = ClipImageEncoder(tiny_clip)
    with pytest.raises(ExecutorError, match="modality 'audio'"):
        enc.encode([modahub.audio(np.zeros(100, np.float32), 16000)])
    with pytest.raises(ExecutorError, match="empty batch"):
        enc.encode([])


def test_wrong_shape(tiny_clip):
    doc = _images()[0]
    doc.payload.pixels = np.zeros((5, 5), np.float32)
    with pytest.raises(ExecutorError, match=r"pixels \[5, 5\]"):
        ClipImageEncoder(tiny_clip).encode([doc])


class TestClipImageContract(EncoderContract):
    """The contract on the tiny random CLIP that ClipImageEncoder.contract_params() builds."""

    executor = ClipImageEncoder


def test_text_tower_matches_transformers_and_shares_the_image_space(tiny_clip):
    import torch
    from transformers import CLIPModel, CLIPTokenizer

    texts = ["a red cat.", "two dogs on a hill", "7", "a much longer sentence about the weather in the mountains"]
    enc = modahub.load("clip-text", model=str(tiny_clip), batch_size=3)
    assert (enc.space, enc.dim) == (modahub.load("clip-image", model=str(tiny_clip)).space, 24)
    vecs = enc.encode([modahub.text(t) for t in texts])
    model = CLIPModel.from_pretrained(tiny_clip, use_safetensors=True, local_files_only=True).eval()
    batch = CLIPTokenizer.from_pretrained(tiny_clip)(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        out = model.text_model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).pooler_output
        reference = torch.nn.functional.normalize(model.text_projection(out), dim=-1).numpy()
    assert float(np.abs(vecs - reference).max()) <= 1e-5


def test_text_tower_without_a_tokenizer_is_refused(tiny_clip, tmp_path):
    bare = tmp_path / "bare"
    shutil.copytree(tiny_clip, bare, ignore=shutil.ignore_patterns("tokenizer*", "vocab.json", "merges.txt", "special*"))
    with pytest.raises(WeightsError, match="has no CLIP tokenizer"):
        modahub.load("clip-text", model=str(bare)).encode([modahub.text("a cat")])


class TestClipTextContract(EncoderContract):
    executor = "clip-text"
