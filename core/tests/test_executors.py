"""The executor interfaces check their inputs and outputs."""

from __future__ import annotations

import numpy as np
import pytest

import modahub
from modahub.documents import Provenance
from modahub.executors import Encoder, ExecutorError, Generator, SpaceMismatchError, check_same_space, matches_filter


class LengthEncoder(Encoder):
    name = "length"
    modalities = ("text",)
    space = "toy"
    dim = 2

    def __init__(self, broken: bool = False, dtype: str = "float64") -> None:
        self.broken, self.dtype = broken, dtype
        self.loads = 0

    def _load(self) -> None:
        self.loads += 1

    def _encode(self, docs):
        out = np.array([[len(d.payload.text), 1.0] for d in docs]).astype(self.dtype)
        return out[:, :1] if self.broken else out


def test_encoder_checks_batch_modality_and_output_shape() -> None:
    enc = LengthEncoder()
    vectors = enc.encode([modahub.text("abc"), modahub.text("hello")])
    assert vectors.dtype == np.float32 and vectors.tolist() == [[3, 1], [5, 1]]
    enc.encode([modahub.text("x")])
    assert enc.loads == 1, "warm_up loads heavy state once"
    with pytest.raises(ExecutorError, match="empty batch"):
        enc.encode([])
    with pytest.raises(ExecutorError, match="document 1 .* has modality 'image'; this executor accepts text"):
        enc.encode([modahub.text("a"), modahub.image(np.zeros((2, 2, 3), np.uint8))])
    with pytest.raises(ExecutorError, match=r"produced shape \[1, 1\], contract is \(1, 2\)"):
        LengthEncoder(broken=True).encode([modahub.text("a")])


@pytest.mark.parametrize("dtype", ["float16", "float64", "int64", "uint8"])
def test_real_numbers_of_any_width_come_out_as_float32(dtype: str) -> None:
    vectors = LengthEncoder(dtype=dtype).encode([modahub.text("abc")])
    assert vectors.dtype == np.float32 and vectors.tolist() == [[3, 1]]


@pytest.mark.parametrize("dtype", ["complex64", "bool", "object", "<U3"])
def test_other_dtypes_are_refused(dtype: str) -> None:
    with pytest.raises(ExecutorError, match=f"length: produced {np.dtype(dtype).name} values; an encoder returns real"):
        LengthEncoder(dtype=dtype).encode([modahub.text("abc")])


def test_spaces_and_dims_must_match_before_comparing() -> None:
    check_same_space(("clip", 512), ("clip", 512))
    with pytest.raises(SpaceMismatchError, match="space 'clip' vs 'minilm'"):
        check_same_space(("clip", 512), ("minilm", 512))
    with pytest.raises(SpaceMismatchError, match="dimension 512 vs 384"):
        check_same_space(("clip", 512), ("clip", 384))


def test_tag_filters() -> None:
    tags = {"lang": "en", "year": 2024}
    assert matches_filter(tags, None) and matches_filter(tags, {"lang": "en"})
    assert matches_filter(tags, {"year": [2023, 2024]})
    assert not matches_filter(tags, {"lang": "de"}) and not matches_filter(tags, {"missing": 1})


class EchoGenerator(Generator):
    name = "echo"
    output_modality = "text"

    def __init__(self, with_provenance: bool = True) -> None:
        self.with_provenance = with_provenance

    def _generate(self, prompts, n, seed):
        rng = np.random.default_rng(seed)
        docs = []
        for prompt in prompts:
            for _ in range(n):
                recipe = Provenance(plugin="test", plugin_version="0", executor=self.name, seed=seed, prompt=prompt)
                docs.append(modahub.text(f"{prompt}-{rng.integers(1000)}", provenance=recipe if self.with_provenance else None))
        return docs


def test_generator_requires_provenance_and_is_seeded() -> None:
    first = EchoGenerator().generate(["a", "b"], n=2, seed=7)
    again = EchoGenerator().generate(["a", "b"], n=2, seed=7)
    assert [d.payload.text for d in first] == [d.payload.text for d in again]
    assert first[0].provenance.seed == 7
    with pytest.raises(ExecutorError, match="lacks provenance"):
        EchoGenerator(with_provenance=False).generate(["a"], seed=1)
    with pytest.raises(ExecutorError, match="no prompts"):
        EchoGenerator().generate([])
