"""``modahub image build``: an image of an app or a plugin, from a Dockerfile template, built with the docker SDK."""

from __future__ import annotations

import re
import shlex
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modahub_hub.containers.engine import ContainerError, connect, docker_module, require_image
from modahub_hub.containers.wheels import OWN_DISTS, _pip, gather, hub_wheels, own_wheel, probe, wheel_metadata

DEFAULT_BASE = "modahub/python-base:bookworm"
IMAGE_UID = 10001
"""The non-root user the images declare (``modahub``); ``serve --docker`` may run as another non-root uid."""
BASE_HINT = ("build it locally with scripts/docker-engine base-image (debootstrap minbase + python3, then docker import; "
             "nothing is pulled), or pass --base with a local image that has python3 and venv")


def read_app_spec(app_file: Path) -> Any:
    """The app file's validated schema (no plugin is imported)."""
    from modahub.pipeline import PipelineError, read_yaml
    from modahub_hub.appfile import AppFile

    try:
        return AppFile.model_validate(read_yaml(app_file))
    except PipelineError as exc:
        raise ContainerError(str(exc)) from None
    except ValueError as exc:
        raise ContainerError(f"{app_file}: invalid app: {exc}") from None


def app_plugins(spec: Any) -> list[str]:
    """Registry names of the executors an app uses (built-in segmenters need no plugin)."""
    from modahub.pipeline import SEGMENTERS

    refs = [*spec.segmenters, *spec.encoders, *([spec.index] if spec.index else []), *spec.generators]
    return sorted({r.uses for r in refs if r.uses not in SEGMENTERS})


@dataclass
class Target:
    """What an image holds: an app file (and the plugins it uses), a hub plugin, or a plugin folder."""

    kind: str
    name: str
    plugins: list[str] = field(default_factory=list)
    app_file: Path | None = None
    folder: Path | None = None

    @classmethod
    def parse(cls, spec: str) -> Target:
        """``app.yml`` → app; a folder with ``pyproject.toml`` → plugin folder; anything else → hub plugin name."""
        path = Path(spec)
        if path.is_file():
            if path.suffix.lower() not in (".yml", ".yaml"):
                raise ContainerError(f"{spec}: expected an app file (.yml/.yaml), a plugin folder or a plugin name")
            app = read_app_spec(path)
            return cls("app", app.name, app_plugins(app), app_file=path.resolve())
        if path.is_dir():
            if not (path / "pyproject.toml").exists():
                raise ContainerError(f"{spec}: a plugin folder needs a pyproject.toml")
            return cls("plugin", path.resolve().name, folder=path.resolve())
        return cls("plugin", spec, [spec])

    def default_tag(self) -> str:
        name = re.sub(r"[^a-z0-9._-]+", "-", self.name.lower()).strip("-._") or "unnamed"
        return f"modahub-{self.kind}-{name}:latest"


@dataclass
class Built:
    """A built image: tag, id, seconds taken, and the Dockerfile used."""

    tag: str
    id: str
    seconds: float
    dockerfile: str
    requirements: list[str]


def render_dockerfile(**context: Any) -> str:
    """Fill ``templates/docker/Dockerfile.jinja`` (shipped in the package as ``modahub_hub/templates``)."""
    from importlib.resources import files

    import jinja2

    text = (files("modahub_hub") / "templates" / "docker" / "Dockerfile.jinja").read_text(encoding="utf-8")
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True, autoescape=False)
    return env.from_string(text).render(**context)


def _folder_wheel(folder: Path, dest: Path) -> Path:
    done = _pip("wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", str(dest), str(folder))
    if done.returncode != 0:
        raise ContainerError(f"could not build a wheel of {folder}: {done.stderr.strip()[-800:]}")
    return max(dest.glob("*.whl"), key=lambda p: p.stat().st_mtime)


def build_image(spec: str, *, tag: str | None = None, base: str = DEFAULT_BASE, hub: str | None = None,
                client: Any = None, log: Callable[[str], None] | None = None, cache: bool = True) -> Built:
    """Build an image of ``spec`` (app file, plugin folder or hub plugin name) on ``base``; nothing is pulled.

    ``cache=False`` ignores the engine's layer cache (a cold build).
    """
    say = log or (lambda _: None)
    target = Target.parse(spec)
    tag = tag or target.default_tag()
    client = client or connect()
    require_image(client, base, BASE_HINT)
    started = time.perf_counter()
    python = probe(client, base)
    with tempfile.TemporaryDirectory(prefix="modahub-image-") as tmp:
        ctx = Path(tmp)
        own, deps = ctx / "wheels" / "own", ctx / "wheels" / "deps"
        own.mkdir(parents=True)
        deps.mkdir()
        say(f"gathering wheels for Python {python.version} ({python.machine}, glibc {python.glibc})")
        local = [own_wheel(dist, own) for dist in OWN_DISTS]
        if target.folder is not None:
            local.append(_folder_wheel(target.folder, own))
        local += hub_wheels(target.plugins, own, hub)
        dep_pins = gather(local, deps, python)
        pins = [f"{n}=={v}" for n, v, _ in (wheel_metadata(w) for w in local)]
        app_name = None
        if target.app_file is not None:
            (ctx / "app").mkdir()
            app_name = target.app_file.name
            shutil.copy2(target.app_file, ctx / "app" / app_name)
        plugins = [f"{n}=={v}" for n, v, _ in (wheel_metadata(w) for w in local) if n not in OWN_DISTS]
        labels = {"org.modahub.kind": target.kind, "org.modahub.name": target.name, "org.modahub.base": base,
                  "org.modahub.python": python.version, "org.modahub.plugins": ",".join(plugins)}
        dockerfile = render_dockerfile(base=base, kind=target.kind, name=target.name, uid=IMAGE_UID, app=app_name,
                                       dependencies=[shlex.quote(p) for p in dep_pins],
                                       requirements=[shlex.quote(p) for p in pins], labels=labels)
        (ctx / "Dockerfile").write_text(dockerfile, encoding="utf-8")
        say(f"building {tag} from {base}")
        image = _build(client, ctx, tag, cache)
    return Built(tag=tag, id=image.id, seconds=time.perf_counter() - started, dockerfile=dockerfile,
                 requirements=pins + dep_pins)


def _build(client: Any, ctx: Path, tag: str, cache: bool) -> Any:
    docker = docker_module()
    try:
        image, _ = client.images.build(path=str(ctx), tag=tag, pull=False, rm=True, forcerm=True, network_mode="none",
                                       nocache=not cache)
    except docker.errors.BuildError as exc:
        lines = [c.get("stream") or c.get("error") or "" for c in exc.build_log]
        tail = "".join(lines).strip().splitlines()[-15:]
        raise ContainerError(f"image build failed: {exc.msg}\n" + "\n".join(tail)) from None
    except docker.errors.APIError as exc:
        raise ContainerError(f"image build failed: {exc}") from None
    return image
