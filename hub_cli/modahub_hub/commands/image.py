"""``modahub image build APP|PLUGIN``: a container image of an app or a plugin, built with the docker SDK."""

from __future__ import annotations

import click

from modahub_hub.output import emit_result, json_option


@click.group("image")
def image() -> None:
    """Container images of apps and plugins (Docker or Podman through the docker SDK; nothing is pulled)."""


@image.command("build")
@click.argument("target")
@click.option("--tag", help="Image tag (default: modahub-app-NAME:latest or modahub-plugin-NAME:latest).")
@click.option("--base", default=None, help="Local base image with python3 and venv [default: modahub/python-base:bookworm, "
                                         "made by scripts/docker-engine base-image].")
@click.option("--hub", help="Hub to take the plugin wheels from (default: the configured or bundled hub).")
@json_option
def build(target: str, tag: str | None, base: str | None, hub: str | None, as_json: bool) -> None:
    """Build an image of TARGET: an app file (its plugins come from the hub), a plugin folder, or a hub plugin name."""
    from modahub_hub.containers.build import DEFAULT_BASE, build_image

    built = build_image(target, tag=tag, base=base or DEFAULT_BASE, hub=hub,
                        log=None if as_json else (lambda m: click.echo(m, err=True)))
    if as_json:
        emit_result({"tag": built.tag, "id": built.id, "seconds": round(built.seconds, 2), "requirements": built.requirements})
    else:
        click.echo(f"built {built.tag} ({built.id[:19]}) in {built.seconds:.1f} s")
