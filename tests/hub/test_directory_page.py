"""The static directory page, opened in headless Chromium, lists the plugins and filters them."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from hub_wheels import publish_unchecked

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--dump-dom"]


def _visible_rows(url: str, profile) -> set[str]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.fail("headless Chromium is required: apt-get install -y chromium (.ci/run installs it)")
    proc = subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", url],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    rows = re.findall(r'<tr class="plugin" data-name="([^"]+)"([^>]*)>', proc.stdout)
    assert rows, proc.stdout[:2000]
    return {name for name, attrs in rows if "hidden" not in attrs}


@pytest.mark.slow
def test_directory_page_lists_and_filters_by_modality_and_kind(hub_dir, key, wheel, tmp_path):
    publish_unchecked(wheel("modahub-words", kind="encoder", modalities=("text",)), str(hub_dir), key=key)
    publish_unchecked(wheel("modahub-pixels", kind="encoder", modalities=("image",)), str(hub_dir), key=key)
    publish_unchecked(wheel("modahub-anyindex", kind="indexer", modalities=("*",)), str(hub_dir), key=key)
    page = (hub_dir / "index.html").as_uri()
    assert _visible_rows(page, tmp_path / "p1") == {"modahub-words", "modahub-pixels", "modahub-anyindex"}
    assert _visible_rows(page + "?modality=image", tmp_path / "p2") == {"modahub-pixels", "modahub-anyindex"}
    assert _visible_rows(page + "?modality=text&kind=encoder", tmp_path / "p3") == {"modahub-words"}
