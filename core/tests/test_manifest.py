"""Static manifests parse strictly and explain their errors."""

from __future__ import annotations

import pytest

from modahub.manifest import ManifestError, parse_manifest

GOOD = """
schema_version = 1
commands = ["greet"]

[[executors]]
name = "toy-text"
kind = "encoder"
modalities = ["text"]
space = "toy"
dim = 8

[[modalities]]
name = "smell"
description = "odour intensity over time"
"""


def test_good_manifest() -> None:
    manifest = parse_manifest(GOOD, source="toy/modahub.toml")
    assert manifest.executors[0].dim == 8 and manifest.modalities[0].name == "smell"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("schema_version = 1\n[[executors]]\nname = 'x y'\nkind='indexer'\nmodalities=['*']", "executors.0.name"),
        ("[[executors]]\nname = 'enc'\nkind='encoder'\nmodalities=['text']\nspace='s'", "both space and dim"),
        ("[[executors]]\nname = 'gen'\nkind='generator'\nmodalities=['text']", "output_modality"),
        ("[[executors]]\nname = 'idx'\nkind='searcher'\nmodalities=['*']", "executors.0.kind"),
        ("schema_version = 2", "schema_version"),
        ("executors = 3 = 4", "not valid TOML"),
        ("colour = 'red'", "colour"),
    ],
)
def test_bad_manifests_name_the_source_and_field(text: str, expected: str) -> None:
    with pytest.raises(ManifestError) as info:
        parse_manifest(text, source="pkg/modahub.toml")
    assert "pkg/modahub.toml" in str(info.value) and expected in str(info.value), str(info.value)


def test_duplicate_executor_names_are_refused() -> None:
    twice = "[[executors]]\nname='a-b'\nkind='indexer'\nmodalities=['*']\n" * 2
    with pytest.raises(ManifestError, match="declared twice: a-b"):
        parse_manifest(twice, source="m")
