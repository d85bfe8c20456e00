"""The files derived from ``registry.json``: the PEP 503 ``simple/`` tree, ``index.html``, the JSON Schema.

They are regenerated in full on every publish, so they always describe the registry they were
written with. Links are relative, so the same files work from a folder, any static host, or pip.
"""

from __future__ import annotations

import html
import posixpath
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any

from modahub_hub.hub.registry import SCHEMA_FILE, Registry, json_schema, normalize

INDEX_PAGE = "index.html"


def _href(registry: Registry, url: str, page_dir: str) -> str:
    if urllib.parse.urlsplit(url).scheme:
        return url
    return posixpath.relpath(url, page_dir or ".")


@dataclass(frozen=True)
class IndexFile:
    """One file of a project in the ``simple/`` index (a plugin's wheel, or another wheel served beside them)."""

    project: str
    filename: str
    url: str
    sha256: str
    requires_python: str | None = None
    yanked: str | None = None  # the reason ("" for none) when the version is yanked


def _plugin_files(registry: Registry) -> list[IndexFile]:
    """Every wheel of every plugin pip may be offered: quarantined plugins are left out, yanked versions marked."""
    files = []
    for name, plugin in registry.plugins.items():
        if plugin.status == "quarantined":
            continue
        for entry in plugin.sorted_versions():
            art = entry.artifact
            files.append(IndexFile(name, art.filename, art.url, art.sha256, entry.requires_python,
                                   (entry.yanked_reason or "") if entry.yanked else None))
    return files


def simple_pages(
    registry: Registry, extra: Sequence[IndexFile] = (), *, index_names: Iterable[str] | None = None
) -> list[tuple[str, bytes]]:
    """``simple/index.html`` and one ``simple/<name>/index.html`` per project (PEP 503, sha256 fragments, PEP 592 yanks).

    A quarantined plugin is not offered: left out of the index, its page (which a static host may
    still hold) rewritten without links. ``extra`` adds files that are not plugins
    (``scripts/build-dists`` serves modahub-core, modahub-testing and modahub this way). ``index_names`` lists every
    name of the hub when ``registry`` holds only the plugins whose pages change.
    """
    meta = '<meta name="pypi:repository-version" content="1.0">'
    head = f'<!DOCTYPE html>\n<html><head><meta charset="utf-8">{meta}<title>{{}}</title></head><body>\n'
    root = registry.file("simple")
    projects: dict[str, list[IndexFile]] = {}
    for item in [*_plugin_files(registry), *extra]:
        projects.setdefault(normalize(item.project), []).append(item)
    names = sorted(index_names) if index_names is not None else sorted(projects)
    links = "".join(f'<a href="{html.escape(n)}/">{html.escape(n)}</a><br>\n' for n in names)
    pages = [(f"{root}/index.html", (head.format("Simple index") + links + "</body></html>\n").encode())]
    withdrawn: dict[str, list[Any]] = {
        n: [] for n, p in registry.plugins.items() if p.status == "quarantined" and n not in projects
    }
    for name, items in sorted({**projects, **withdrawn}.items()):
        page_dir = f"{root}/{name}"
        rows = []
        for item in items:
            attrs = f' data-requires-python="{html.escape(item.requires_python)}"' if item.requires_python else ""
            if item.yanked is not None:
                attrs += f' data-yanked="{html.escape(item.yanked)}"'
            href = f"{_href(registry, item.url, page_dir)}#sha256={item.sha256}"
            rows.append(f'<a href="{html.escape(href)}"{attrs}>{html.escape(item.filename)}</a><br>\n')
        body = head.format(f"Links for {html.escape(name)}") + "".join(rows) + "</body></html>\n"
        pages.append((f"{page_dir}/index.html", body.encode()))
    return pages


def _rows(registry: Registry) -> list[dict[str, Any]]:
    rows = []
    for key, plugin in sorted(registry.plugins.items()):
        latest = plugin.latest()
        if latest is None:
            continue
        rows.append(
            {
                "name": plugin.name,
                "key": key,
                "version": latest.version,
                "summary": plugin.summary,
                "owner": plugin.owner,
                "license": plugin.license or "",
                "status": plugin.status,
                "kinds": latest.kinds(),
                "modalities": latest.modalities(),
                "executors": [e.name for e in latest.manifest.executors],
                "wheel": _href(registry, latest.artifact.url, registry.files_dir),
                "published": latest.published_at.strftime("%Y-%m-%d"),
            }
        )
    return rows


def search_row_to_page(row: dict[str, Any]) -> dict[str, object]:
    """A TUF hub's search-index row (see ``tuf_repo.index_row``) as a directory-page row; it links the plugin's pip page."""
    return {
        "name": row["name"],
        "key": row["key"],
        "version": row["version"] or "",
        "summary": row["summary"] or "",
        "owner": row["owner"],
        "license": row.get("license") or "",
        "status": row["status"],
        "kinds": row["kinds"],
        "modalities": row["modalities"],
        "executors": [e["name"] for e in row["executors"]],
        "wheel": f"simple/{row['key']}/",
        "published": "",
    }


def directory_page(registry: Registry) -> bytes:
    """The static, filterable ``index.html`` of a legacy registry."""
    return render_directory(_rows(registry), registry.version, registry.generated_at)


def render_directory(rows: list[dict[str, object]], version: int, generated: datetime) -> bytes:
    """The static, filterable ``index.html`` (rendered from the jinja2 template in this package)."""
    import jinja2

    template = resources.files("modahub_hub.hub").joinpath("templates/index.html.j2").read_text(encoding="utf-8")
    env = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    return env.from_string(template).render(
        rows=rows,
        modalities=sorted({m for r in rows for m in r["modalities"]} - {"*"}),  # type: ignore[attr-defined]
        kinds=sorted({k for r in rows for k in r["kinds"]}),  # type: ignore[attr-defined]
        version=version,
        generated=generated.strftime("%Y-%m-%d %H:%M UTC"),
    ).encode()


def derived_files(registry: Registry) -> list[tuple[str, bytes]]:
    """Every file generated from the registry, paths relative to the registry file."""
    return [
        *simple_pages(registry),
        (registry.file(INDEX_PAGE), directory_page(registry)),
        (registry.file(SCHEMA_FILE), json_schema().encode()),
    ]
