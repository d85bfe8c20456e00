"""``modahub demo``: the main job on the real first-party plugins (offline)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from modahub_hub.cli import cli


@pytest.mark.slow
def test_demo_finds_across_modalities_and_regenerates(tmp_path):
    from modahub.plugins import reset_manager

    reset_manager()
    out = CliRunner().invoke(cli, ["demo", "--out", str(tmp_path / "demo"), "--json", "--no-install"], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)["data"]
    accuracy = data["summary"]["accuracy"]
    assert set(accuracy) == {"text → image", "sound → image", "image → text"}
    for direction in accuracy:
        rows = [s for s in data["searches"] if s["direction"] == direction]
        assert len(rows) == 10 and sum(s["correct"] for s in rows) >= 9, (direction, accuracy[direction])
        assert all(h["kind"] == direction.split("→")[1].strip() for s in rows for h in s["hits"])
    assert [g["bm25_rank"] for g in data["generated"]] == [1, 1, 1]
    assert all(g["regenerated"] and g["vector_rank"] for g in data["generated"])
    scene = data["sentences"]
    assert len(scene["accuracy"]) == 6  # text, image and sound, each searching the other two
    for direction, accuracy in scene["accuracy"].items():
        right, total = map(int, accuracy.removeprefix("R@1 ").split("/"))
        assert total == 6 and right >= 4, (direction, accuracy)  # chance is 1 in 6
    assert all(s["read"] for s in scene["searches"] if s["query"].startswith(("image", "sound")))
    report = (tmp_path / "demo" / "report.html").read_text()
    assert report.count("<img") >= 40 and "<audio" in report and "byte for byte" in report
    assert "Real sentences" in report and report.count("read: <q>") >= 12
    again = CliRunner().invoke(cli, ["run", str(tmp_path / "demo" / "app.yml"), "search", "-t", "a nine", "-k", "3", "--json",
                                     "--filter", "kind=image"])
    hits = json.loads(again.output)["data"]["results"][0]["matches"]
    assert [h["tags"]["digit"] for h in hits] == [9, 9, 9]  # the demo's index persists for modahub run


def test_demo_names_missing_plugins_and_refuses_foreign_folders(tmp_path, monkeypatch):
    from modahub.plugins import reset_manager

    monkeypatch.setenv("MODAHUB_LOAD_PLUGINS", "exact-index")
    reset_manager()
    try:
        out = CliRunner().invoke(cli, ["demo", "--out", str(tmp_path / "d"), "--no-install"])
    finally:
        monkeypatch.delenv("MODAHUB_LOAD_PLUGINS")
        reset_manager()
    assert out.exit_code == 1
    assert "the demo needs modahub-audio, modahub-digits-generator" in out.output and "modahub install" in out.output
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "precious.txt").write_text("keep me")
    out = CliRunner().invoke(cli, ["demo", "--out", str(tmp_path / "mine"), "--no-install"])
    assert out.exit_code == 1 and "is not a modahub demo folder" in out.output
    assert (tmp_path / "mine" / "precious.txt").exists()
