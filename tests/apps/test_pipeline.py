"""Pipelines: build-time validation with actionable errors, YAML, routing, batching, segmenting."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import modahub
from modahub.executors import ExecutorError
from modahub.pipeline import App, LocalRunner, Pipeline, PipelineError


def test_text_encoder_into_index_of_another_space_fails_at_build(toys):
    pipe = Pipeline(name="mixed").add("text", "toy-text").add(
        "index", "exact-index", {"space": "other", "dim": 8}, needs=["text"]
    )
    with pytest.raises(PipelineError) as err:
        pipe.build()
    msg = str(err.value)
    assert "step 'index' (exact-index)" in msg  # the step
    assert "expected vectors of space 'other' (dim 8" in msg  # what it expected
    assert "got embedded text documents (space 'toy-digits', dim 10) from step 'text'" in msg  # what it got
    fits = msg.split("installed executors that fit: ")[1]  # what would fit, from manifests
    assert "other-text (encoder of text; space 'other', dim 8)" in fits and "toy-text" not in fits


def test_encoders_of_different_spaces_cannot_share_an_index(toys):
    app = {"encoders": [{"uses": "other-text"}, {"uses": "toy-image"}], "index": {"uses": "exact-index"}}
    with pytest.raises(PipelineError, match=r"step 'exact-index' \(exact-index\): expected vectors of space 'other'.*"
                       r"got embedded image documents \(space 'toy-digits', dim 10\) from step 'toy-image'"):
        App(app)


def test_raw_documents_into_an_index_name_the_encoders_that_fit(toys):
    with pytest.raises(PipelineError) as err:
        Pipeline().add("index", "exact-index", {"space": "toy-digits", "dim": 10}).build()
    msg = str(err.value)
    assert "expected embedded documents; got raw any-modality documents from the pipeline input" in msg
    assert "toy-text (encoder of text; space 'toy-digits', dim 10)" in msg
    assert "other-text" not in msg  # another space does not fit


def test_generator_output_must_fit_the_encoder(toys):
    with pytest.raises(PipelineError) as err:
        Pipeline().add("draw", "toy-draw").add("enc", "toy-text", needs=["draw"]).build()
    msg = str(err.value)
    assert "step 'enc' (toy-text): expected text documents; got raw image documents from step 'draw'" in msg
    assert "toy-image (encoder of image; space 'toy-digits', dim 10)" in msg


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([{"name": "a", "uses": "toy-text"}, {"name": "b", "uses": "toy-text"}], "would go to both step 'a'"),
        ([{"name": "a", "uses": "toy-txt"}], "no installed plugin provides an executor named 'toy-txt'"),
        ([{"name": "a", "uses": "toy-text", "with": {"dely": 1}}], "unknown parameter(s) dely; accepted: delay"),
        ([{"name": "a", "uses": "toy-text", "needs": ["b"]}, {"name": "b", "uses": "toy-text", "needs": ["a"]}], "cycle"),
        ([{"name": "a", "uses": "toy-text", "needs": ["zz"]}], "needs unknown step 'zz'"),
        ([{"name": "a", "uses": "toy-text", "op": "search"}], "'op' applies to index steps only"),
        ([{"name": "a", "use": "toy-text"}], "steps[0].uses: Field required"),
        ([{"name": "t", "uses": "toy-text"}, {"name": "d", "uses": "toy-draw"}], "split them into two pipelines"),
        ([{"name": "t", "uses": "toy-text"}, {"name": "d", "uses": "toy-draw", "needs": ["t"]}], "reads prompts"),
        ([{"name": "t", "uses": "toy-text"}, {"name": "i", "uses": "exact-index", "needs": ["t"], "op": "search"},
          {"name": "j", "uses": "exact-index", "needs": ["i"]}], "cannot read search results"),
    ],
)
def test_malformed_pipelines_fail_at_build_naming_the_step(toys, steps, message):
    with pytest.raises(PipelineError) as err:
        Pipeline.from_dict({"steps": steps}).build()
    assert message in str(err.value)


def test_yaml_round_trip_and_safe_load(toys, tmp_path):
    text = """
name: yaml-pipe
steps:
  - {name: text, uses: toy-text, with: {delay: 0}}
  - {name: index, uses: exact-index, needs: [text]}
"""
    pipe = Pipeline.from_yaml(text).build()
    assert pipe.order == ["text", "index"]
    again = Pipeline.from_dict(pipe.to_dict()).build()
    assert again.to_dict() == pipe.to_dict()
    with pytest.raises(PipelineError, match="not valid YAML"):
        Pipeline.from_yaml("steps: [\n")
    with pytest.raises(PipelineError, match="not valid YAML"):  # no python tags
        Pipeline.from_yaml("steps: !!python/object/apply:os.system ['true']\n")


def test_app_routes_by_modality_and_keeps_input_order(app_file, kit):
    app = App.from_yaml(app_file)
    docs = kit.corpus()[::-1]
    result = app.index(docs)
    assert [d.id for d in result.documents] == [d.id for d in docs]
    assert all(d.embedding is not None and d.embedding.shape == (10,) for d in result.documents)
    queries = [modahub.text("seven"), modahub.audio(kit.tone(3), 8000), modahub.image(kit.flat_image(6))]
    found = app.search(queries, k=2)
    assert [q.modality for q in found.queries] == ["text", "audio", "image"]
    assert {m.id for m in found.matches[0]} == {"txt-7", "img-7"}
    assert {m.id for m in found.matches[1]} == {"snd-3", "img-3"}
    assert {m.id for m in found.matches[2]} == {"img-6", "txt-6"}
    assert all(m.score > 0.9 for hits in found.matches for m in hits)


def test_the_index_persists_between_apps(app_file, kit):
    App.from_yaml(app_file).index(kit.corpus())
    again = App.from_yaml(app_file)
    hits = again.search([modahub.image(kit.flat_image(8))], k=1).matches[0]
    assert hits[0].id in {"img-8", "txt-8"}
    assert len(again.indexer()) == len(kit.corpus())


def test_runner_batches_by_executor_batch_size_and_reports_progress(toys):
    pipe = Pipeline().add("text", "toy-text").build()
    ticks = []
    docs = [modahub.text(f"doc {i}") for i in range(10)]
    result = LocalRunner(pipe, progress=lambda step, done, total: ticks.append((step, done, total))).run(docs)
    assert pipe.nodes["text"].executor.calls == [4, 4, 2]  # toy-text batch_size is 4
    assert ticks == [("text", 4, 10), ("text", 8, 10), ("text", 10, 10)]
    assert len(result.documents) == 10


def test_unaccepted_modality_at_run_time_is_a_clear_error(app_file, kit):
    app = App.from_yaml(app_file)
    video = modahub.Document(modality="video", payload={"frames": kit.flat_image(1)[None], "fps": 1.0}, id="v")
    with pytest.raises(ExecutorError, match=r"document 0 \(id 'v'\) has modality 'video'; pipeline 'toys/index' accepts"):
        app.index([video])


def test_generate_encodes_and_indexes_with_recipes(app_file):
    app = App.from_yaml(app_file)
    result = app.generate(["draw a four", "a nine please"], n=2, seed=11)
    assert [d.provenance.prompt for d in result.documents] == ["draw a four"] * 2 + ["a nine please"] * 2
    assert all(d.provenance.seed == 11 and d.embedding is not None for d in result.documents)
    hits = app.search([modahub.text("nine")], k=2).matches[0]
    assert {h.id for h in hits} == {d.id for d in result.documents[2:]}  # found again by a text query


def test_text_passages_segment_before_encoding(toys, kit, tmp_path):
    app = App({
        "segmenters": [{"uses": "text-passages", "with": {"words": 4}}],
        "encoders": [{"uses": "toy-text"}, {"uses": "toy-image"}],
        "index": {"uses": "exact-index"},
    })
    long = modahub.text("alpha beta gamma delta one two three four five six", id="long")
    result = app.index([long, modahub.image(kit.flat_image(2), id="img")])
    assert [d.id for d in result.documents] == ["long#0", "long#1", "long#2", "img"]
    assert result.documents[1].tags == {"parent": "long", "passage": 1}
    hits = app.search([modahub.text("five")], k=1).matches[0]
    assert hits[0].id == "long#2"


def test_app_file_errors_name_the_field(toys, tmp_path):
    path = tmp_path / "bad.yml"
    path.write_text("encoders: []\nindex: {uses: exact-index}\nextra: 1\n")
    with pytest.raises(PipelineError) as err:
        App.from_yaml(path)
    assert "encoders: List should have at least 1 item" in str(err.value)
    assert "extra: Extra inputs are not permitted" in str(err.value)
    with pytest.raises(PipelineError, match="cannot read"):
        App.from_yaml(tmp_path / "missing.yml")


def test_fitting_executors_come_from_manifests_without_importing_plugins(kit):
    code = (
        "import sys, json; from modahub.pipeline.fits import fitting;"
        "print(json.dumps(fitting('encoder', modalities=['text'], space='toy-digits', dim=10)));"
        "print('modahub_apptoys.toys' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(kit.TOYS), "PATH": ""}).stdout.splitlines()
    fits = json.loads(out[0])
    assert "toy-text (encoder of text; space 'toy-digits', dim 10)" in fits and not [f for f in fits if "other" in f]
    assert out[1] == "False"


def test_a_text_index_is_a_pipeline_step_like_any_other(toys, tmp_path):
    """Kind text-indexer: generated documents go in, text queries search it; no encoder involved."""
    shared: dict = {}
    making = Pipeline(executors=shared).add("draw", "toy-draw").add(
        "recipes", "recipe-index", {"path": str(tmp_path / "recipes")}, needs=["draw"])
    made = LocalRunner(making).run(["a seven", "a three"], n=2, seed=1).documents
    assert len(made) == 4 and len(shared["recipes"]) == 4
    searching = Pipeline(executors=shared).add("recipes", "recipe-index", op="search")
    result = LocalRunner(searching).run([modahub.text("seven", id="q")], k=5)
    assert {m.id for m in result.matches[0]} == {d.id for d in made if d.provenance.prompt == "a seven"}
    with pytest.raises(ExecutorError, match="not a text document; a text index is queried by words"):
        LocalRunner(searching).run([modahub.image(np.zeros((2, 2, 1), np.uint8), id="img")])


def test_a_third_party_segmenter_is_declared_in_a_manifest(modahub_tmp_plugin):
    """Kind segmenter from a plugin: resolved through the registry, run before the encoders, contract-tested."""
    from modahub.plugins import manager
    from modahub_testing import SegmenterContract  # noqa: F401 (the class the plugin's own tests subclass)
    from modahub_testing.rules import Subject, rules_for, run_rule

    modahub_tmp_plugin("sentences", SENTENCES_CODE, SENTENCES_MANIFEST)
    cls = manager().executor_class("sentences")
    assert cls.kind == "segmenter"
    results = [run_rule(r, Subject(cls)) for r in rules_for("segmenter")]
    assert [r.status for r in results] == ["passed"] * len(results), [r.message for r in results]
    out = LocalRunner(Pipeline().add("split", "sentences")).run([modahub.text("One. Two. Three", id="t", tags={"a": 1})])
    assert [(d.id, d.payload.text, d.tags["a"]) for d in out.documents] == [("t.0", "One", 1), ("t.1", "Two", 1),
                                                                            ("t.2", "Three", 1)]


@pytest.mark.parametrize(("change", "rule", "says"), [
    ("tags=doc.tags", "segment-pieces", "lost its parent's tags"),
    ('id=f"{doc.id}.{i}"', "segment-pieces", "piece ids repeat"),
    ('id=f"{doc.id}.{i}"', "segment-determinism", "a fresh instance gave different pieces"),
])
def test_the_segmenter_contract_catches_a_broken_segmenter(modahub_tmp_plugin, change, rule, says):
    from modahub.plugins import manager
    from modahub_testing.rules import Subject, get_rule, run_rule

    broken = {"tags=doc.tags": "tags={}", 'id=f"{doc.id}.{i}"': 'id=f"p{i}"' if rule == "segment-pieces"
              else 'id=f"{doc.id}.{i}.{id(self)}"'}[change]
    modahub_tmp_plugin("sentences", SENTENCES_CODE.replace(change, broken), SENTENCES_MANIFEST)
    result = run_rule(get_rule(rule), Subject(manager().executor_class("sentences")))
    assert result.status == "failed" and says in result.message, result.message


SENTENCES_MANIFEST = """
[[executors]]
name = "sentences"
kind = "segmenter"
modalities = ["text"]
"""

SENTENCES_CODE = '''
from modahub import Document, Segmenter, hookimpl


class Sentences(Segmenter):
    name = "sentences"
    modalities = ("text",)

    def _segment(self, doc):
        parts = [p.strip() for p in doc.payload.load().text.split(".") if p.strip()] or [doc.payload.text]
        return [Document(id=f"{doc.id}.{i}", modality="text", payload={"text": p}, tags=doc.tags)
                for i, p in enumerate(parts)]


@hookimpl
def register_executors(register):
    register(Sentences)
'''


def test_the_built_in_segmenter_keeps_the_segmenter_contract():
    from modahub.pipeline.steps import TextPassages
    from modahub_testing.rules import Subject, rules_for, run_rule

    results = [run_rule(r, Subject(TextPassages, params={"words": 3})) for r in rules_for("segmenter")]
    assert [r.status for r in results] == ["passed"] * 3, [r.message for r in results]
