"""``modahub run``: index, search, generate and encode an app from the command line."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from modahub_hub.cli import cli


def write_corpus(path, docs) -> None:
    path.write_text("".join(d.model_dump_json() + "\n" for d in docs))


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_index_then_search_across_modalities(app_file, kit, tmp_path):
    import modahub

    write_corpus(tmp_path / "corpus.jsonl", kit.corpus())
    out = invoke("run", str(app_file), "index", "--input", str(tmp_path / "corpus.jsonl"), "--json")
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["data"]["index_size"] == 20
    write_corpus(tmp_path / "queries.jsonl", [modahub.audio(kit.tone(2), 8000, id="q-sound"),
                                             modahub.image(kit.flat_image(9), id="q-image")])
    out = invoke("run", str(app_file), "search", "-i", str(tmp_path / "queries.jsonl"), "-t", "the number three", "-k", "2",
                 "--json")
    assert out.exit_code == 0, out.output
    results = json.loads(out.output)["data"]["results"]
    assert [r["query"]["id"] for r in results] == ["q-sound", "q-image", "text-0"]
    assert {m["id"] for m in results[0]["matches"]} == {"snd-2", "img-2"}  # sound -> image (and sound)
    assert {m["id"] for m in results[1]["matches"]} == {"img-9", "txt-9"}  # image -> text (and image)
    assert {m["id"] for m in results[2]["matches"]} == {"img-3", "snd-3"}  # text -> image (and sound)
    table = invoke("run", str(app_file), "search", "-t", "seven", "-k", "1")
    assert "img-7" in table.output or "txt-7" in table.output


def test_filter_generate_and_encode(app_file, kit, tmp_path):
    write_corpus(tmp_path / "corpus.jsonl", kit.corpus())
    invoke("run", str(app_file), "index", "-i", str(tmp_path / "corpus.jsonl"))
    out = invoke("run", str(app_file), "search", "-t", "seven", "--filter", "digit=7", "-k", "5", "--json")
    assert {m["id"] for m in json.loads(out.output)["data"]["results"][0]["matches"]} == {"img-7", "txt-7"}
    out = invoke("run", str(app_file), "generate", "-t", "draw a six", "-n", "2", "--seed", "5", "--json")
    generated = json.loads(out.output)["data"]
    assert generated["indexed"] is True and len(generated["documents"]) == 2
    assert generated["documents"][0]["provenance"]["seed"] == 5
    out = invoke("run", str(app_file), "encode", "-t", "one", "--json")
    data = json.loads(out.output)["data"]
    assert (data["space"], data["dim"], len(data["embeddings"][0]["embedding"])) == ("toy-digits", 10, 10)


def test_user_mistakes_are_clear_errors(app_file, tmp_path):
    out = CliRunner().invoke(cli, ["run", str(app_file), "search"])
    assert out.exit_code == 2 and "nothing to run on" in out.output
    bad = tmp_path / "bad.yml"
    bad.write_text("encoders:\n  - uses: toy-text\nindex:\n  uses: exact-index\n  with: {space: other, dim: 8}\n")
    out = CliRunner().invoke(cli, ["run", str(bad), "search", "-t", "x"])
    assert out.exit_code == 2
    assert "Error: step 'exact-index' (exact-index): expected vectors of space 'other'" in out.output
    assert "Traceback" not in out.output
    (tmp_path / "q.xyz").write_text("?")
    out = CliRunner().invoke(cli, ["run", str(app_file), "search", "-i", str(tmp_path / "q.xyz")])
    assert out.exit_code == 2 and "unknown file type .xyz" in out.output


def test_non_finite_tags_and_duplicate_keys_are_clear_errors(app_file, tmp_path):
    (tmp_path / "nan.jsonl").write_text('{"modality": "text", "payload": {"text": "x"}, "tags": {"t": NaN}}\n')
    out = CliRunner().invoke(cli, ["run", str(app_file), "index", "-i", str(tmp_path / "nan.jsonl")])
    assert out.exit_code != 0 and "nan.jsonl:1: not a document" in out.output and "finite" in out.output
    assert "Traceback" not in out.output and not (app_file.parent / "index").exists()
    twice = tmp_path / "twice.yml"
    twice.write_text("encoders:\n  - uses: toy-text\nencoders:\n  - uses: toy-image\n")
    out = CliRunner().invoke(cli, ["run", str(twice), "encode", "-t", "x"])
    assert out.exit_code != 0 and "line 3: duplicate key 'encoders' (first on line 1)" in out.output


def test_any_modality_is_queried_with_doc_json_or_a_single_text_field(toys, kit, tmp_path):
    app_file = tmp_path / "tally.yml"
    app_file.write_text("name: tally\nencoders:\n  - uses: toy-text\n  - uses: toy-tally\n"
                        "index:\n  uses: exact-index\n  with: {path: ./index}\n")
    write_corpus(tmp_path / "corpus.jsonl", [d for d in kit.corpus() if d.modality == "text"])
    invoke("run", str(app_file), "index", "-i", str(tmp_path / "corpus.jsonl"))
    doc = json.dumps({"modality": "tally", "payload": {"count": 7}, "tags": {"from": "cli"}})
    out = invoke("run", str(app_file), "search", "--doc", doc, "--modality", "text", "-t", "seven", "-k", "1", "--json")
    assert out.exit_code == 0, out.output
    results = json.loads(out.output)["data"]["results"]
    assert [(r["query"]["id"], r["query"]["modality"]) for r in results] == [("text-0", "text"), ("doc-0", "tally")]
    assert results[0]["matches"][0]["id"] == results[1]["matches"][0]["id"] == "txt-7"


@pytest.mark.parametrize(("args", "says"), [
    (["--doc", "{not json"], "--doc 1: not JSON"),
    (["--doc", '{"modality": "tally", "payload": {"count": "many"}}'], "--doc 1: not a document"),
    (["--modality", "tally", "-t", "7"], "modality 'tally': its payload (count) is not a single text field"),
    (["--modality", "no-such", "-t", "7"], "unknown modality 'no-such'"),
])
def test_bad_query_documents_are_one_line_errors(app_file, args, says):
    out = CliRunner().invoke(cli, ["run", str(app_file), "search", *args])
    assert out.exit_code != 0 and says in out.output and "Traceback" not in out.output, out.output
