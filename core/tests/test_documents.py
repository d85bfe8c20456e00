"""Document validation and JSON round trips."""

from __future__ import annotations

import json
import wave

import numpy as np
import pytest
from pydantic import ValidationError

import modahub
from modahub import Document

GOOD = {
    "text": {"text": "a red bicycle"},
    "image": {"pixels": np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)},
    "audio": {"samples": np.linspace(-1, 1, 800, dtype=np.float32), "sample_rate": 8000},
    "video": {"frames": np.zeros((2, 4, 4, 3), np.uint8), "fps": 12.5},
    "mesh": {"vertices": np.eye(3, dtype=np.float64), "faces": np.array([[0, 1, 2]], np.int64)},
    "pointcloud": {"points": np.random.default_rng(0).normal(size=(7, 3)).astype(np.float32)},
    "timeseries": {"values": np.ones((10, 2)), "timestamps": np.arange(10.0)},
}


@pytest.mark.parametrize("modality", sorted(GOOD))
def test_every_builtin_modality_round_trips_exactly_through_json(modality: str) -> None:
    doc = Document(modality=modality, payload=GOOD[modality], tags={"k": 1}, embedding=np.array([0.5, 1 / 3], np.float32))
    back = Document.from_json(doc.to_json())
    assert back.modality == modality and back.tags == {"k": 1} and back.id == doc.id
    assert type(back.payload) is type(doc.payload)
    for field, value in GOOD[modality].items():
        restored = getattr(back.payload, field)
        if isinstance(value, np.ndarray):
            assert restored.dtype == value.dtype and np.array_equal(restored, value)
        else:
            assert restored == value
    assert back.embedding.tobytes() == doc.embedding.tobytes()


@pytest.mark.parametrize(
    ("modality", "payload", "field", "expected"),
    [
        ("image", {"pixels": np.zeros((4, 5), np.uint8)}, "pixels", "H×W×C"),
        ("image", {"pixels": np.zeros((4, 5, 3), np.float32)}, "pixels", "uint8"),
        ("image", {"pixels": np.zeros((4, 5, 2), np.uint8)}, "pixels", "C in 1, 3, 4"),
        ("audio", {"samples": np.zeros((3, 3, 3), np.float32), "sample_rate": 8000}, "samples", "(N,)"),
        ("audio", {"samples": np.zeros(3, np.int16), "sample_rate": 8000}, "samples", "float32"),
        ("audio", {"samples": np.zeros(3, np.float32), "sample_rate": 0}, "sample_rate", "greater than 0"),
        ("audio", {}, "samples, sample_rate", "missing payload"),
        ("video", {"frames": np.zeros((4, 4, 3), np.uint8), "fps": 1}, "frames", "T×H×W×C"),
        ("mesh", {"vertices": np.zeros((3, 2)), "faces": np.zeros((1, 3), np.int64)}, "vertices", "V×3"),
        ("mesh", {"vertices": np.zeros((3, 3)), "faces": np.array([[0, 1, 5]])}, "faces", "out of range"),
        ("pointcloud", {"points": np.zeros((5, 4))}, "points", "N×3"),
        ("timeseries", {"values": np.zeros(5)}, "values", "T×C"),
        ("timeseries", {"values": np.zeros((3, 1)), "timestamps": np.array([0.0, 2.0, 1.0])}, "timestamps", "increasing"),
        ("text", {"text": "x", "colour": "red"}, "colour", "Extra inputs"),
    ],
)
def test_bad_payload_errors_name_the_field_and_what_was_expected(modality, payload, field, expected) -> None:
    with pytest.raises(ValidationError) as info:
        Document(modality=modality, payload=payload)
    message = str(info.value)
    assert field in message and expected in message, message


def test_missing_payload_and_unknown_modality_are_named() -> None:
    with pytest.raises(ValidationError, match=r"payload: missing payload for a 'text' document"):
        Document(modality="text")
    with pytest.raises(ValidationError, match=r"modality: unknown modality 'smell'.*known: audio, image"):
        Document(modality="smell", payload={"x": 1})
    with pytest.raises(ValidationError, match="modality: field required"):
        Document(payload={"text": "x"})


def test_embedding_must_be_a_float_vector() -> None:
    with pytest.raises(ValidationError, match=r"embedding\n.*1-D float vector"):
        modahub.text("x", embedding=np.zeros((2, 2), np.float32))
    assert modahub.text("x", embedding=[1.0, 2.0]).embedding.dtype == np.float32


def test_object_arrays_and_corrupt_encodings_are_refused() -> None:
    with pytest.raises(ValidationError, match="not allowed"):
        modahub.image(np.array([[["a"]]], dtype=object))
    bad = {"dtype": "uint8", "shape": [2, 2, 3], "data": "AAAA"}
    with pytest.raises(ValidationError, match="needs 12"):
        Document(modality="image", payload={"pixels": bad})


def test_chunks_nest_documents_of_other_modalities() -> None:
    video = Document(
        modality="video",
        payload=GOOD["video"],
        chunks=[modahub.image(np.zeros((2, 2, 3), np.uint8), tags={"t": 0.0})],
    )
    back = Document.from_json(video.to_json())
    assert back.chunks[0].modality == "image" and back.chunks[0].tags == {"t": 0.0}


def test_payloads_load_lazily_from_files(tmp_path) -> None:
    (tmp_path / "note.txt").write_text("hello from a file", encoding="utf-8")
    doc = Document(modality="text", payload={"uri": str(tmp_path / "note.txt")})
    assert doc.payload.text is None and not doc.payload.is_loaded
    assert doc.load().payload.text == "hello from a file"

    samples = (np.sin(np.linspace(0, 20, 400)) * 20000).astype("<i2")
    with wave.open(str(tmp_path / "tone.wav"), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000)
        w.writeframes(samples.tobytes())
    sound = modahub.audio(uri=f"file://{tmp_path / 'tone.wav'}").load()
    assert sound.payload.sample_rate == 8000
    assert np.allclose(sound.payload.samples, samples / 32768.0)

    with pytest.raises(FileNotFoundError, match="no such file"):
        modahub.audio(uri=str(tmp_path / "missing.wav")).load()
    with pytest.raises(ValueError, match="only local files"):
        modahub.image(uri="https://example.invalid/cat.png").load()


def test_json_schema_describes_arrays() -> None:
    schema = modahub.payloads.ImagePayload.model_json_schema()
    pixels = schema["properties"]["pixels"]["anyOf"][0]
    assert pixels["required"] == ["dtype", "shape", "data"]
    json.dumps(schema)
