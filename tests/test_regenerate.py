"""`modahub regenerate` and modahub.recipes: byte-exact replay, and refusal of tampered recipes."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata

import numpy as np
import pytest
from click.testing import CliRunner

import modahub
from modahub.documents import Document
from modahub.recipes import RecipeError, payload_bytes, recipe_id, regenerate, verify
from modahub_hub.cli import cli
from modahub_hub.output import read_envelope

VERSION = metadata.version("modahub-digits-generator")


@pytest.fixture(scope="module")
def seven() -> Document:
    return modahub.load("digits-generator").generate(["a seven"], n=2, seed=31)[1]


@pytest.fixture(scope="module")
def melody() -> Document:
    return modahub.load("tone-generator").generate(["a fast pluck melody in G major"], seed=5)[0]


def _run(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, ["regenerate", *args], input=input)


def _tampered(doc: Document, **provenance) -> str:
    return doc.model_copy(update={"provenance": doc.provenance.model_copy(update=provenance)}).to_json()


@pytest.mark.parametrize("which", ["seven", "melody"])
def test_cli_reproduces_a_document_byte_for_byte(which, request, tmp_path):
    doc = request.getfixturevalue(which)
    (tmp_path / "doc.json").write_text(doc.to_json())
    result = _run(str(tmp_path / "doc.json"), "-o", str(tmp_path / "again.json"))
    assert result.exit_code == 0, result.output
    assert f"identical: {doc.id}" in result.stderr
    assert (tmp_path / "again.json").read_text().strip() == doc.to_json()


def test_cli_reads_json_lines_on_stdin_through_the_console_script(seven, melody):
    lines = seven.to_json() + "\n" + melody.to_json() + "\n"
    modahub_exe = [sys.executable, "-c", "from modahub_hub.cli import main; main()", "regenerate"]
    done = subprocess.run(modahub_exe, input=lines, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == lines
    assert done.stderr.count("identical:") == 2


def test_wrong_weights_sha256_is_refused(seven):
    bad = seven.provenance.weights.model_copy(update={"sha256": "ab" * 32})
    result = _run(input=_tampered(seven, weights=bad))
    assert result.exit_code == 1
    assert "weights differ: the recipe pins modahub-digits-generator@" in result.stderr
    assert "sha256 abababababab" in result.stderr and seven.provenance.weights.sha256[:12] in result.stderr


def test_wrong_plugin_version_is_refused(seven):
    result = _run(input=_tampered(seven, plugin_version="0.0.9"))
    assert result.exit_code == 1
    assert f"made by modahub-digits-generator 0.0.9, installed is {VERSION}" in result.stderr
    assert "pip install 'modahub-digits-generator==0.0.9'" in result.stderr


def test_another_distribution_is_refused(seven):
    result = _run(input=_tampered(seven, plugin="modahub-digits-fork"))
    assert result.exit_code == 1
    assert "comes from modahub-digits-generator here, but the recipe was made by modahub-digits-fork" in result.stderr


def test_an_edited_payload_is_reported_with_exit_code_3(seven, tmp_path):
    pixels = seven.payload.pixels.copy()
    pixels[0, 0, 0] ^= 1
    edited = seven.model_copy(update={"payload": seven.payload.model_copy(update={"pixels": pixels})})
    result = _run("-o", str(tmp_path / "out.json"), input=edited.to_json())
    assert result.exit_code == 3
    assert "the regenerated payload differs" in result.stderr and "DIFFERS" in result.stderr
    written = Document.from_json((tmp_path / "out.json").read_text())
    assert payload_bytes(written.payload) == payload_bytes(seven.payload)  # the true replay, to compare


def test_json_envelope_holds_the_checks_and_the_regenerated_documents(seven):
    ok = _run("--json", input=seven.to_json())
    out = read_envelope(ok.stdout)
    assert ok.exit_code == 0 and out["ok"] and out["data"]["output"] is None
    assert [(d["id"], d["identical"]) for d in out["data"]["documents"]] == [(seven.id, True)]
    assert Document.model_validate(out["data"]["regenerated"][0]).to_json() == seven.to_json()
    differs = _run("--json", input=_tampered(seven, parameters={"size": 16, "temperature": 1.0}))
    out = read_envelope(differs.stdout)
    assert differs.exit_code == out["error"]["code"] == 3 and out["data"]["documents"][0]["identical"] is False
    assert "differs" in out["error"]["message"]


def test_edited_parameters_make_another_document(seven):
    result = _run(input=_tampered(seven, parameters={"size": 16, "temperature": 1.0}))
    assert result.exit_code == 3


def test_unusable_recipes_and_inputs_are_clear(seven):
    cases = {  # a recipe that cannot be replayed here: 1; input that is not a document: 2
        modahub.text("hello").to_json(): ("has no provenance", 1),
        _tampered(seven, executor="no-such-generator"): ("no installed plugin provides an executor named 'no-such-generator'", 1),
        _tampered(seven, parameters={"size": "big"}): ("refuses the recipe's parameters", 1),
        "{not json": ("not JSON nor JSON lines", 2),
        json.dumps({"modality": "image"}): ("not a modahub document", 2),
        "": ("empty", 2),
    }
    for text, (message, code) in cases.items():
        result = _run(input=text)
        assert result.exit_code == code, (text, result.stderr)
        assert message in result.stderr, result.stderr
        assert "Traceback" not in result.output


def test_regenerate_from_a_bare_recipe(melody):
    again = regenerate(melody.provenance)
    assert again.id == melody.id == recipe_id(melody.provenance)
    assert np.array_equal(again.payload.samples, melody.payload.samples)
    assert verify(melody).model_dump_json() == melody.model_dump_json()


def test_a_document_keeps_its_own_id_and_tags(seven):
    renamed = seven.model_copy(update={"id": "my-seven", "tags": {**seven.tags, "album": "demo"}})
    again = verify(renamed)
    assert again.id == "my-seven" and again.tags == {"digit": 7, "album": "demo"}


def test_recipe_error_is_a_value_error():
    with pytest.raises(ValueError, match="no provenance"):
        regenerate(modahub.text("x"))
    assert issubclass(RecipeError, ValueError)
