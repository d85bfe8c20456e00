"""digits-generator: recognisable digits, determinism, provenance, prompt parsing."""

from __future__ import annotations

import hashlib
from importlib import metadata, resources

import numpy as np
import pytest
from modahub_digits_generator.prompts import parse_digit

import modahub
from modahub.executors import ExecutorError
from modahub_testing import GeneratorContract


@pytest.fixture(scope="module")
def generator():
    return modahub.load("digits-generator")


def test_generated_digits_are_recognised_by_an_independent_classifier(generator):
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    digits = load_digits()
    with threadpool_limits(1):  # one BLAS thread: many threads on a busy machine make the fit 100× slower
        clf = LogisticRegression(max_iter=1000).fit(digits.data / 16.0, digits.target)
    words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    docs = generator.generate([f"a {w}" for w in words], n=20, seed=123)
    assert len(docs) == 200
    # back to the 8×8 grid in the 0..1 range that the classifier was trained on
    features = np.stack([d.payload.pixels[::4, ::4, 0].reshape(64) / 255.0 for d in docs])
    wanted = np.repeat(np.arange(10), 20)
    accuracy = float(np.mean(clf.predict(features) == wanted))
    assert accuracy >= 0.8, f"only {accuracy:.0%} of generated digits recognised (chance is 10%)"
    assert [d.tags["digit"] for d in docs] == wanted.tolist()


def test_same_seed_same_bytes_different_seed_different_image():
    first = modahub.load("digits-generator").generate(["a seven"], n=3, seed=42)
    again = modahub.load("digits-generator").generate(["a seven"], n=3, seed=42)
    other = modahub.load("digits-generator").generate(["a seven"], n=3, seed=43)
    assert [d.payload.pixels.tobytes() for d in first] == [d.payload.pixels.tobytes() for d in again]
    assert [d.id for d in first] == [d.id for d in again]
    assert len({d.payload.pixels.tobytes() for d in first}) == 3  # the n samples differ
    assert first[0].payload.pixels.tobytes() != other[0].payload.pixels.tobytes()


def test_sample_j_is_the_document_of_seed_plus_j_whatever_the_batch(generator):
    batch = generator.generate(["3", "a seven"], n=3, seed=10)
    alone = generator.generate(["a seven"], n=1, seed=12)[0]
    assert batch[5].provenance == alone.provenance
    assert batch[5].payload.pixels.tobytes() == alone.payload.pixels.tobytes()
    assert batch[5].id == alone.id


def test_provenance_is_a_complete_recipe(generator):
    doc = generator.generate(["a handwritten 4"], seed=7)[0]
    prov = doc.provenance
    weights = resources.files("modahub_digits_generator") / "weights" / "cvae-decoder.safetensors"
    assert doc.modality == "image" and doc.payload.pixels.shape == (32, 32, 1) and doc.payload.pixels.dtype == np.uint8
    assert prov.plugin == "modahub-digits-generator"
    assert prov.plugin_version == metadata.version("modahub-digits-generator")
    assert prov.executor == "digits-generator"
    assert prov.weights.repo == "modahub-digits-generator"
    assert prov.weights.revision == prov.plugin_version
    assert prov.weights.sha256 == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert (prov.seed, prov.prompt) == (7, "a handwritten 4")
    assert prov.parameters == {"size": 32, "temperature": 1.0}


def test_parameters_shape_the_output():
    small = modahub.load("digits-generator", size=8).generate(["1"], seed=0)[0]
    assert small.payload.pixels.shape == (8, 8, 1)
    assert small.provenance.parameters["size"] == 8
    flat = modahub.load("digits-generator", temperature=0.0).generate(["1"], n=3, seed=0)
    assert len({d.payload.pixels.tobytes() for d in flat}) == 1  # no noise: the average one


@pytest.mark.parametrize("bad", [{"size": 4}, {"size": 32.5}, {"temperature": -1}])
def test_bad_parameters_are_refused(bad):
    with pytest.raises(ExecutorError, match="digits-generator"):
        modahub.load("digits-generator", **bad)


@pytest.mark.parametrize("prompt", ["7", "seven", "a seven", "Draw a SEVEN!", "sevens", "the digit 7 please"])
def test_prompts_naming_seven(prompt):
    assert parse_digit(prompt) == 7


def test_prompts_naming_other_digits():
    assert [parse_digit(p) for p in ("zero", "nought", "sixes", "a 1", "three")] == [0, 0, 6, 1, 3]


@pytest.mark.parametrize(("prompt", "message"), [("a cat", "names no digit"), ("3 or 7", "several digits"), ("17", "no digit")])
def test_prompts_without_one_digit_are_refused(generator, prompt, message):
    with pytest.raises(ExecutorError, match=message):
        generator.generate([prompt], seed=0)


class TestGeneratorContract(GeneratorContract):
    executor = "digits-generator"
