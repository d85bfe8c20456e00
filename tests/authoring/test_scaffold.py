"""`modahub new`: names, the rendered file set, prompts and flags, refusals, and every kind × modality passing the contract."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from modahub.manifest import parse_manifest
from modahub_hub.cli import cli
from modahub_hub.commands.manifest import generate
from modahub_hub.contract_targets import run_here
from modahub_hub.scaffold import BUILTIN_MODALITIES, PluginNameError, ScaffoldError, ScaffoldOptions, plugin_names, render
from modahub_hub.scaffold.names import clash
from modahub_hub.scaffold.render import templates_root

COMMON = {
    "pyproject.toml", "README.md", "Dockerfile", ".gitignore", ".github/workflows/ci.yml",
    "tests/test_contract.py", "tests/test_plugin.py",
}


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    ("raw", "name", "dist", "package"),
    [
        ("color-hist", "color-hist", "modahub-color-hist", "modahub_color_hist"),
        ("Color_Hist", "color-hist", "modahub-color-hist", "modahub_color_hist"),
        ("modahub-Spectro.Gen", "spectro-gen", "modahub-spectro-gen", "modahub_spectro_gen"),
    ],
)
def test_names_are_normalised_per_pep_503(raw, name, dist, package):
    names = plugin_names(raw)
    assert (names.name, names.dist, names.package) == (name, dist, package)


@pytest.mark.parametrize("raw", ["x", "1abc", "héllo", "a b", "core", "modahub", "-lead", "ab" * 30])
def test_bad_names_are_refused_with_the_rule(raw):
    with pytest.raises(PluginNameError, match="plugin name"):
        plugin_names(raw)


def test_taken_names_and_their_lookalikes_clash():
    taken = {"modahub-exact-index", "modahub-text"}
    assert clash(plugin_names("exact-1ndex"), taken) == "modahub-exact-index"
    assert clash(plugin_names("exactindex"), taken) == "modahub-exact-index"
    assert clash(plugin_names("exact-index"), taken) == "modahub-exact-index"
    assert clash(plugin_names("exact-indexes"), taken) is None


@pytest.mark.parametrize(
    ("kind", "modality", "extra"),
    [
        ("encoder", "text", {"src/modahub_demo/encoder.py"}),
        ("indexer", "*", {"src/modahub_demo/indexer.py"}),
        ("generator", "audio", {"src/modahub_demo/generator.py"}),
        ("encoder", "spectrum", {"src/modahub_demo/encoder.py", "src/modahub_demo/modality.py"}),
    ],
)
def test_rendered_file_set(tmp_path, kind, modality, extra):
    render(ScaffoldOptions(plugin_names("demo"), kind=kind, modality=modality), tmp_path / "demo")
    package = {"src/modahub_demo/__init__.py", "src/modahub_demo/plugin.py", "src/modahub_demo/modahub.toml"}
    assert _files(tmp_path / "demo") == COMMON | package | extra


TYPED = {  # new modalities with typed payload fields (--field) and file extensions (--extension)
    "molecule": {"fields": (("smiles", "str"),), "extensions": (".smi",)},
    "assay": {"fields": (("name", "str"), ("dose", "float"), ("wells", "int"), ("active", "bool"), ("trace", "array"))},
}
NEW_MODALITIES = ("spectrum", *TYPED)
KINDS_AND_MODALITIES = [
    *(("encoder", m) for m in (*BUILTIN_MODALITIES, *NEW_MODALITIES)),
    *(("generator", m) for m in (*BUILTIN_MODALITIES, *NEW_MODALITIES)),
    *(("indexer", m) for m in ("*", "text", "spectrum")),
]


def _name(kind: str, modality: str) -> str:
    return f"{kind[:3]}-{modality.replace('*', 'any')}"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every kind × modality rendered once, each in its own folder named by _name()."""
    root = tmp_path_factory.mktemp("rendered")
    for kind, modality in KINDS_AND_MODALITIES:
        name = _name(kind, modality)
        render(ScaffoldOptions(plugin_names(name), kind=kind, modality=modality, **TYPED.get(modality, {})), root / name)
    return root


def test_rendered_code_is_lint_clean(rendered):
    lint = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", "--line-length", "130",
                           "--select", "E,F,W,B,UP", str(rendered)], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr


@pytest.mark.parametrize(("kind", "modality"), KINDS_AND_MODALITIES)
def test_every_kind_and_modality_passes_the_contract_out_of_the_box(rendered, kind, modality):
    name = _name(kind, modality)
    manifest_file = rendered / name / "src" / plugin_names(name).package / "modahub.toml"
    manifest = parse_manifest(manifest_file.read_text(), source=str(manifest_file))
    assert [(e.name, e.kind) for e in manifest.executors] == [(name, kind)]
    assert [(m.name, m.extensions) for m in manifest.modalities] == (
        [(modality, list(TYPED.get(modality, {}).get("extensions", ())))] if modality in NEW_MODALITIES else [])
    ((_, declared, generated),) = generate(rendered / name)
    assert declared == generated  # the rendered modahub.toml is what 'modahub manifest --write' makes of the code
    report = run_here(rendered / name)
    assert report.ok, (report.errors, [(r.rule, r.message) for r in report.failures])
    assert {r.executor for r in report.results} == {name}


def test_options_are_checked():
    names = plugin_names("demo")
    with pytest.raises(ScaffoldError, match="suits only indexers"):
        ScaffoldOptions(names, kind="encoder", modality="*")
    with pytest.raises(ScaffoldError, match="modality 'Bad Name'"):
        ScaffoldOptions(names, kind="encoder", modality="Bad Name")
    with pytest.raises(ScaffoldError, match="dim 1"):
        ScaffoldOptions(names, kind="encoder", dim=1)
    for text in ('The "best"', "back\\slash", "two\nlines"):
        with pytest.raises(ScaffoldError, match="description .*one printable line"):
            ScaffoldOptions(names, description=text)


def test_templates_are_found_in_the_installed_package():
    root = templates_root()
    repo = Path(__file__).resolve().parents[2] / "templates" / "plugin"
    assert {p.relative_to(root) for p in root.rglob("*.jinja")} == {p.relative_to(repo) for p in repo.rglob("*.jinja")}


# --- the command --------------------------------------------------------------------------


def test_new_with_flags_only(tmp_path):
    result = CliRunner().invoke(cli, [
        "new", "Tone_Gen", "--kind", "generator", "--modality", "audio", "--description", "Tones",
        "--author", "Ada", "--email", "ada@example.org", "--no-interactive", "--directory", str(tmp_path / "tg"),
    ])
    assert result.exit_code == 0, result.output
    assert "modahub-tone-gen, generator for audio" in result.output
    pyproject = (tmp_path / "tg" / "pyproject.toml").read_text()
    assert 'name = "modahub-tone-gen"' in pyproject and 'tone-gen = "modahub_tone_gen.plugin"' in pyproject
    assert '"modahub-core>=0.2,<0.3"' in pyproject and 'name = "Ada", email = "ada@example.org"' in pyproject
    assert 'output_modality = "audio"' in (tmp_path / "tg" / "src" / "modahub_tone_gen" / "modahub.toml").read_text()


def test_new_prompts_with_defaults(tmp_path):
    answers = "\n".join(["encoder", "spectrum", "Spectral plugin", "Ada", "", "", "Light spectra", "32", ""]) + "\n"
    result = CliRunner().invoke(cli, ["new", "spec", "--interactive", "--directory", str(tmp_path / "s")], input=answers)
    assert result.exit_code == 0, result.output
    assert "Vector size [64]" in result.output and "Embedding space [spec-v1]" in result.output
    manifest = (tmp_path / "s" / "src" / "modahub_spec" / "modahub.toml").read_text()
    assert 'dim = 32' in manifest and 'space = "spec-v1"' in manifest and 'description = "Light spectra"' in manifest
    assert 'license = "Apache-2.0"' in (tmp_path / "s" / "pyproject.toml").read_text()


def test_new_refuses_an_existing_folder_and_changes_nothing(tmp_path):
    folder = tmp_path / "taken"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    result = CliRunner().invoke(cli, ["new", "taken", "--no-interactive", "--directory", str(folder)])
    assert result.exit_code == 2 and "already exists" in result.output
    assert _files(folder) == {"keep.txt"}


@pytest.mark.parametrize(("name", "says"), [("exact-1ndex", "looks like"), ("Exact_Index", "is the name of")])
def test_new_refuses_an_installed_plugins_name_or_lookalike(tmp_path, name, says):
    result = CliRunner().invoke(cli, ["new", name, "--no-interactive", "--directory", str(tmp_path / "x")])
    assert result.exit_code == 2 and f"{says} the existing plugin 'modahub-exact-index'" in result.output
    assert not (tmp_path / "x").exists()


def test_new_refuses_a_bad_name_without_a_traceback(tmp_path):
    result = CliRunner().invoke(cli, ["new", "9lives", "--no-interactive", "--directory", str(tmp_path / "x")])
    assert result.exit_code == 2 and "Error: plugin name '9lives'" in result.output and "Traceback" not in result.output
