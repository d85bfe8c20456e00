"""Fixture plugins installed into a temporary site folder (real dist-info and entry points)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from modahub import plugins

TOY_MANIFEST = """
schema_version = 1
commands = ["greet"]

[[executors]]
name = "toy-text"
kind = "encoder"
modalities = ["text", "smell"]
space = "toy"
dim = 4

[[modalities]]
name = "smell"
description = "odour intensities"
"""

TOY_CODE = '''
from pathlib import Path
import os
import numpy as np
import click
from modahub import Encoder, Payload, hookimpl
from modahub.modalities import Modality
from modahub.arrays import NDArray

marker = os.environ.get("TOY_IMPORT_MARKER")
if marker:
    Path(marker).write_text("imported")


class SmellPayload(Payload):
    data_fields = ("intensity",)
    intensity: NDArray | None = None

    def check(self):
        if self.intensity is not None and self.intensity.ndim != 1:
            raise ValueError("intensity: expected a 1-D array")


class ToyEncoder(Encoder):
    name = "toy-text"
    modalities = ("text", "smell")
    space = "toy"
    dim = 4

    def _encode(self, docs):
        out = []
        for d in docs:
            data = d.payload.text.encode() if d.modality == "text" else d.payload.intensity.tobytes()
            out.append([len(data), data.count(b"a"), 1.0, 0.0])
        return np.array(out)


@hookimpl
def register_modalities(register):
    register(Modality("smell", SmellPayload, "odour intensities"))


@hookimpl
def register_executors(register):
    register(ToyEncoder)


@hookimpl
def register_commands(cli):
    @cli.command("greet")
    @click.argument("who")
    def greet(who):
        """Say hello."""
        click.echo(f"hello {who} from toy")
'''

SIMPLE_MANIFEST = """
[[executors]]
name = "{name}-index"
kind = "indexer"
modalities = ["*"]
"""


@dataclass
class Site:
    """A folder on sys.path where fixture plugins are installed with real dist-info metadata."""

    path: Path

    def add(self, dist: str, code: str, manifest: str | None, *, package: str | None = None) -> str:
        package = package or dist.replace("-", "_")
        pkg = self.path / package
        pkg.mkdir()
        (pkg / "__init__.py").write_text(textwrap.dedent(code))
        if manifest is not None:
            (pkg / "modahub.toml").write_text(manifest)
        info = self.path / f"{package}-0.1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1.0\n")
        (info / "entry_points.txt").write_text(f"[modahub]\n{dist} = {package}\n")
        return package

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MODAHUB_")}
        env["PYTHONPATH"] = os.pathsep.join([str(self.path), env.get("PYTHONPATH", "")])
        return env | extra

    def modahub(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        """Run the real ``modahub`` console script with this site on its path."""
        exe = Path(sys.executable).with_name("modahub")
        return subprocess.run([str(exe), *args], capture_output=True, text=True, env=self.env(**env), timeout=60)


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    """An empty plugin site on sys.path; the plugin manager is rebuilt around it."""
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    for var in (plugins.STRICT_ENV, plugins.LOAD_ENV):
        monkeypatch.delenv(var, raising=False)
    plugins.reset_manager()
    yield Site(folder)
    plugins.reset_manager()
    for name in [m for m in sys.modules if m.startswith(("toy_", "boom_", "bad_", "typo_", "liar_"))]:
        del sys.modules[name]


@pytest.fixture
def toy(site: Site) -> Site:
    site.add("toy-plugin", TOY_CODE, TOY_MANIFEST)
    return site


@pytest.fixture
def zoo(toy: Site) -> Site:
    """The toy plugin beside four broken ones."""
    toy.add("boom-import", "raise RuntimeError('cannot import: libfoo.so missing')\n", SIMPLE_MANIFEST.format(name="boom"))
    toy.add(
        "boom-hook",
        "from modahub import hookimpl\n@hookimpl\ndef register_executors(register):\n    raise KeyError('no weights')\n",
        SIMPLE_MANIFEST.format(name="hook"),
    )
    toy.add("bad-manifest", "", "[[executors]]\nname = 'x'\nkind = 'encoder'\n")
    toy.add(
        "typo-hook",
        "from modahub import hookimpl\n@hookimpl\ndef register_executorz(register):\n    pass\n",
        SIMPLE_MANIFEST.format(name="typo"),
    )
    return toy
