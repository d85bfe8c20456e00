"""Several benchmarks write one document: each owns a named section and leaves the others alone."""

from __future__ import annotations

import re
from pathlib import Path


def write_section(path: Path, name: str, markdown: str) -> None:
    """Replace (or append) the section ``name`` of ``path``, delimited by HTML comments."""
    start, end = f"<!-- section: {name} -->", f"<!-- end: {name} -->"
    block = f"{start}\n{markdown.strip()}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else (text.rstrip() + "\n\n" + block).lstrip()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.rstrip() + "\n", encoding="utf-8")
