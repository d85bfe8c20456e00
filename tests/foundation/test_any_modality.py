"""Modalities of any shape: typed payload fields, file extensions declared in a manifest, and a
second plugin building on a modality another plugin declares."""

from __future__ import annotations

import json

import numpy as np
import pytest

from modahub import plugins
from modahub.documents import Document
from modahub.manifest import ManifestError, parse_manifest
from modahub.payloads import Payload
from modahub_hub.inputs import InputError, documents_from_paths, modality_of

CHEM_MANIFEST = """
schema_version = 1

[[modalities]]
name = "molecule"
description = "a molecule as SMILES, with optional measurements"
extensions = [".smi"]
"""

CHEM_CODE = '''
from modahub import Payload, hookimpl
from modahub.arrays import NDArray
from modahub.modalities import Modality
from modahub.payloads import local_path
from pydantic import BaseModel


class Source(BaseModel):
    lab: str
    year: int


class MoleculePayload(Payload):
    data_fields = ("smiles",)
    smiles: str | None = None
    charge: int = 0
    weight: float | None = None
    coords: NDArray | None = None
    source: Source | None = None

    def read(self, uri):
        return {"smiles": local_path(uri).read_text(encoding="utf-8").split()[0]}

    @classmethod
    def example(cls, rng):
        return cls(smiles="".join(rng.choice(list("CNOc1()="), int(rng.integers(3, 20)))))


@hookimpl
def register_modalities(register):
    register(Modality("molecule", MoleculePayload, "a molecule as SMILES, with optional measurements"))
'''

FP_MANIFEST = """
schema_version = 1

[[executors]]
name = "atom-counts"
kind = "encoder"
modalities = ["molecule"]
space = "atoms"
dim = 3
"""

FP_CODE = '''
import numpy as np
from modahub import Encoder, hookimpl


class AtomCounts(Encoder):
    name = "atom-counts"
    modalities = ("molecule",)
    space = "atoms"
    dim = 3

    def _encode(self, docs):
        return np.array([[d.payload.smiles.count(a) for a in "CNO"] for d in docs], dtype=np.float32)


@hookimpl
def register_executors(register):
    register(AtomCounts)
'''


@pytest.fixture
def chem(site):
    site.add("chem-plugin", CHEM_CODE, CHEM_MANIFEST)
    site.add("chem-fp", FP_CODE, FP_MANIFEST)  # uses 'molecule' without declaring it
    plugins.reset_manager()
    return site


def test_a_payload_holds_typed_fields_and_nested_models(chem):
    doc = Document(id="m1", modality="molecule", payload={
        "smiles": "CCO", "charge": -1, "weight": 46.07, "coords": np.zeros((9, 3), dtype=np.float32),
        "source": {"lab": "north", "year": 2024}})
    again = Document.model_validate_json(doc.model_dump_json())
    assert (again.payload.smiles, again.payload.charge, again.payload.weight) == ("CCO", -1, 46.07)
    assert again.payload.source.year == 2024 and again.payload.coords.shape == (9, 3)
    with pytest.raises(ValueError, match="payload.charge"):
        Document(id="m2", modality="molecule", payload={"smiles": "CCO", "charge": "many"})
    with pytest.raises(ValueError, match="give smiles or a uri"):
        Document(id="m3", modality="molecule", payload={"charge": 1})


def test_data_fields_must_be_optional_fields_of_the_payload():
    with pytest.raises(TypeError, match="not fields"):
        type("Typo", (Payload,), {"__annotations__": {"smiles": "str | None"}, "smiles": None, "data_fields": ("smile",)})
    with pytest.raises(TypeError, match="need a default"):
        type("Required", (Payload,), {"__annotations__": {"smiles": str}, "data_fields": ("smiles",)})


def test_files_of_a_plugin_declared_extension_become_its_documents(chem, tmp_path):
    folder = tmp_path / "inputs"
    folder.mkdir()
    (folder / "ethanol.smi").write_text("CCO ethanol\n")
    (folder / "urea.SMI").write_text("NC(=O)N\n")
    (folder / "notes.txt").write_text("plain text")
    docs = {d.id: d for d in documents_from_paths([folder])}
    assert {d: docs[d].modality for d in docs} == {"ethanol.smi": "molecule", "urea.SMI": "molecule", "notes.txt": "text"}
    assert docs["urea.SMI"].payload.smiles == "NC(=O)N"


def test_a_second_plugin_builds_on_a_modality_it_does_not_declare(chem):
    encoder = plugins.manager().executor_class("atom-counts")()
    doc = Document(id="m", modality="molecule", payload={"smiles": "NC(=O)N"})
    assert encoder.encode([doc]).tolist() == [[1.0, 2.0, 1.0]]
    assert plugins.manager().records["chem-plugin"].status == "loaded"  # the declaring plugin registered it, once


def test_two_plugins_claiming_one_extension_for_different_modalities_are_named(chem, tmp_path):
    chem.add("other-chem", CHEM_CODE.replace('"molecule"', '"crystal"'),
             CHEM_MANIFEST.replace('"molecule"', '"crystal"'))
    plugins.reset_manager()
    (tmp_path / "x.smi").write_text("C")
    with pytest.raises(InputError, match=r"claimed for several modalities: crystal \(other-chem\); molecule \(chem-plugin\)"):
        modality_of(tmp_path / "x.smi")


def test_a_plugin_cannot_take_a_built_in_extension(chem, tmp_path):
    chem.add("txt-grab", CHEM_CODE.replace('"molecule"', '"notes"').replace('".smi"', '".txt"'),
             CHEM_MANIFEST.replace('"molecule"', '"notes"').replace('".smi"', '".txt"'))
    plugins.reset_manager()
    assert modality_of(tmp_path / "a.txt") == "text"


@pytest.mark.parametrize("ext", ["smi", ".SMI", ".a/b", "." + "x" * 17])
def test_manifest_extensions_are_checked(ext):
    with pytest.raises(ManifestError, match="extension"):
        parse_manifest(CHEM_MANIFEST.replace('".smi"', json.dumps(ext)), source="m.toml")


def test_modahub_new_builds_on_an_installed_plugins_modality(chem, tmp_path):
    """The scaffold depends on the declaring plugin instead of registering the modality a second time."""
    from click.testing import CliRunner

    from modahub_hub.cli import cli
    from modahub_hub.contract_targets import run_here

    folder = tmp_path / "modahub-mol-counts"
    out = CliRunner().invoke(cli, ["new", "mol-counts", "--modality", "molecule", "--no-interactive",
                                   "--directory", str(folder)], catch_exceptions=False)
    assert out.exit_code == 0 and "declared by the installed chem-plugin" in out.output, out.output
    package = folder / "src" / "modahub_mol_counts"
    assert not (package / "modality.py").exists() and "register_modalities" not in (package / "plugin.py").read_text()
    assert '"chem-plugin"]' in (folder / "pyproject.toml").read_text()
    assert parse_manifest((package / "modahub.toml").read_text(), source="m").modalities == []
    report = run_here(folder)
    assert report.ok, (report.errors, [(r.rule, r.message) for r in report.failures])
