"""Plugin discovery, static manifests, guarded loading, strict mode and selection."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import modahub
from modahub import Document, plugins


def _records(mgr: plugins.PluginManager) -> dict[str, plugins.PluginRecord]:
    return {r.dist: r for r in mgr.records.values()}


def test_manifests_are_read_without_importing_plugin_code(toy) -> None:
    mgr = plugins.manager()
    specs = {s.name: s for _, s in mgr.executor_specs()}
    assert specs["toy-text"].space == "toy" and specs["toy-text"].dim == 4
    assert "toy_plugin" not in sys.modules


def test_load_imports_only_the_plugin_that_provides_the_executor(zoo) -> None:
    encoder = modahub.load("toy-text")
    assert encoder.encode([modahub.text("banana")]).tolist() == [[6, 3, 1, 0]]
    assert "toy_plugin" in sys.modules
    assert "boom_import" not in sys.modules and "boom_hook" not in sys.modules


def test_a_plugin_modality_works_like_a_builtin(toy) -> None:
    doc = Document(modality="smell", payload={"intensity": np.array([0.5, 0.25])})
    assert type(doc.payload).__name__ == "SmellPayload"
    assert Document.from_json(doc.to_json()).payload.intensity.tolist() == [0.5, 0.25]
    with pytest.raises(ValueError, match="intensity: expected a 1-D array"):
        Document(modality="smell", payload={"intensity": np.zeros((2, 2))})
    assert modahub.load("toy-text").encode([doc]).shape == (1, 4)


def test_broken_plugins_are_recorded_and_the_rest_work(zoo) -> None:
    mgr = plugins.manager()
    records = _records(mgr)
    assert records["bad-manifest"].status == "broken"
    assert "executors.0.modalities" in records["bad-manifest"].error
    mgr.load_all()
    assert "libfoo.so missing" in records["boom-import"].error
    assert "RuntimeError" in records["boom-import"].error and "pip install --force-reinstall" in records["boom-import"].fix
    assert "KeyError" in records["boom-hook"].error
    assert "register_executorz" in records["typo-hook"].error, "unknown hook names are errors (check_pending)"
    assert records["toy-plugin"].status == "loaded"
    with pytest.raises(plugins.PluginError, match="plugin boom-import is broken: import failed"):
        modahub.load("boom-index")
    assert modahub.load("toy-text").dim == 4


def test_strict_mode_makes_a_failure_fatal(zoo, monkeypatch) -> None:
    monkeypatch.setenv(plugins.STRICT_ENV, "1")
    monkeypatch.setenv(plugins.LOAD_ENV, "toy-plugin,boom-import")
    plugins.reset_manager()
    mgr = plugins.manager()
    with pytest.raises(plugins.PluginError, match="boom-import 0.1.0.*libfoo.so missing"):
        mgr.load_all()


def test_selection_env_var_limits_the_plugins(zoo, monkeypatch) -> None:
    monkeypatch.setenv(plugins.LOAD_ENV, "toy-plugin")
    plugins.reset_manager()
    mgr = plugins.manager()
    assert [r.dist for r in mgr.active()] == ["toy-plugin"]
    assert _records(mgr)["boom-import"].status == "disabled"
    monkeypatch.setenv(plugins.LOAD_ENV, "")
    plugins.reset_manager()
    assert plugins.manager().active() == []


def test_code_that_disagrees_with_its_manifest_is_broken(site) -> None:
    site.add(
        "liar-plugin",
        "from modahub import hookimpl\nfrom modahub_exact_index.indexer import ExactIndexer\n"
        "class Other(ExactIndexer):\n    name = 'undeclared-index'\n"
        "@hookimpl\ndef register_executors(register):\n    register(Other)\n",
        "[[executors]]\nname = 'liar-index'\nkind = 'indexer'\nmodalities = ['*']\n",
    )
    with pytest.raises(plugins.PluginError, match=r"registered but not declared \['undeclared-index'\]"):
        modahub.load("liar-index", space="s", dim=2)


def test_unknown_executor_names_what_is_known(toy) -> None:
    with pytest.raises(plugins.UnknownExecutorError, match="no installed plugin provides an executor named 'nope'.*toy-text"):
        modahub.load("nope")


def test_load_with_a_kind_refuses_an_executor_of_another_kind(toy) -> None:
    assert modahub.load("toy-text", kind="encoder").dim == 4
    with pytest.raises(modahub.ExecutorError, match="executor 'toy-text' is of kind encoder, not indexer"):
        modahub.load("toy-text", kind="indexer")
