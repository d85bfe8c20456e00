"""Values a store could not give back are refused when a document is built (Python, JSON, HTTP alike)."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from pydantic import ValidationError

import modahub
from modahub.arrays import array_from_json
from modahub.documents import Document, Provenance


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_tags_are_refused_from_python_and_json(bad):
    with pytest.raises(ValidationError, match="(?s)tags.t.*finite"):
        modahub.text("x", tags={"t": bad})
    token = {float("inf"): "Infinity", float("-inf"): "-Infinity"}.get(bad, "NaN")
    with pytest.raises(ValidationError, match="finite"):
        Document.model_validate_json(f'{{"modality": "text", "payload": {{"text": "x"}}, "tags": {{"t": {token}}}}}')


def test_tags_outside_what_stores_hold_are_refused():
    with pytest.raises(ValidationError, match="64 bits"):
        modahub.text("x", tags={"big": 2**63})
    with pytest.raises(ValidationError, match="lone surrogates"):
        modahub.text("x", tags={"s": "\ud800"})
    with pytest.raises(ValidationError, match="lone surrogates"):
        modahub.text("x", tags={"\udfff": 1})
    with pytest.raises(ValidationError, match="unicode"):
        modahub.text("x", id="a\ud800")
    kept = modahub.text("x", tags={"s": "é", "i": -(2**63), "j": 2**63 - 1, "f": -0.0, "b": True, "tiny": 5e-324})
    assert Document.from_json(kept.to_json()).tags == kept.tags
    assert type(Document.from_json(kept.to_json()).tags["b"]) is bool


def test_non_finite_numbers_in_arrays_and_fields_are_refused():
    with pytest.raises(ValidationError, match="NaN or infinite"):
        modahub.audio(np.array([0.0, np.nan], dtype=np.float32), 8000)
    with pytest.raises(ValidationError, match="NaN or infinite"):
        modahub.text("x", embedding=np.array([1.0, np.inf], dtype=np.float32))
    with pytest.raises(ValidationError, match="NaN or infinite"):
        Document(modality="timeseries", payload={"values": [[1.0], [float("-inf")]]})
    with pytest.raises(ValidationError, match="finite"):
        Document(modality="video", payload={"frames": np.zeros((1, 2, 2, 3), np.uint8), "fps": float("inf")})
    with pytest.raises(ValidationError, match="finite"):
        Provenance(plugin="p", plugin_version="1", executor="e", seed=0, prompt="x", parameters={"a": [1, {"b": float("nan")}]})


@pytest.mark.parametrize("shape", [[2**70], [0, 2**70], [-1], [1.5], ["3"], [True], list(range(1, 40)), "12"])
def test_array_shapes_are_checked_before_allocating(shape):
    encoded = {"dtype": "float32", "shape": shape, "data": base64.b64encode(b"\0" * 4).decode()}
    with pytest.raises(ValueError, match="shape|bytes|dimension"):
        array_from_json(encoded)
    with pytest.raises(ValidationError):
        Document.model_validate_json(json.dumps({"modality": "text", "payload": {"text": "x"}, "embedding": encoded}))
