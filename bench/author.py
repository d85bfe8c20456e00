"""The author's journey, timed per step: new → its own tests → modahub test → publish to a temporary
hub → install from it into a fresh venv → modahub list shows it. Target: under 60 s, no hand edits.

Setup is not part of the journey: the dependency wheelhouse (downloaded once, then cached) and two
fresh venvs with modahub installed offline — the author's and a user's. The peer, measured in the
same run: plain ``pip install`` of the very wheel the hub serves, against ``modahub install``
(which also verifies the signed registry, size and sha256, and records the plugin lock).

    .venv/bin/python bench/author.py [--kind encoder] [--modality spectrum] [--name my-plugin] [--keep]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "authoring"))
from journey import Venv, new, own_tests, wheelhouse  # noqa: E402

TARGET_S = 60.0


def timed(rows: list[tuple[str, float, str]], label: str, step: Callable[[], str]) -> None:
    start = time.perf_counter()
    note = step()
    rows.append((label, time.perf_counter() - start, note))
    print(f"  {label:<44} {rows[-1][1]:6.2f} s  {note}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kind", default="encoder", choices=["encoder", "indexer", "generator"])
    parser.add_argument("--modality", default="spectrum", help="a built-in modality, or a new one (default spectrum, new)")
    parser.add_argument("--name", default="bench-author")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (venvs, plugin, hub)")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="modahub-bench-author-"))
    config = {"MODAHUB_CONFIG_DIR": str(tmp / "config")}
    print(f"setup (not timed as the journey) in {tmp}", flush=True)
    start = time.perf_counter()
    house = wheelhouse(tmp)
    author = Venv.create(tmp / "author-venv", house, config)
    user = Venv.create(tmp / "user-venv", house, config)
    peer = Venv.create(tmp / "peer-venv", house, config)
    print(f"  {'wheelhouse + 3 fresh venvs with modahub':<44} {time.perf_counter() - start:6.2f} s", flush=True)

    dist = f"modahub-{args.name}"
    folder, hub, key = tmp / "work" / dist, tmp / "hub", tmp / "hub.key"
    (tmp / "work").mkdir()

    def develop() -> str:
        author.run("python", "-m", "pip", "install", "-q", "--no-compile", "--no-build-isolation", "-e", str(folder))
        return "editable, no dependency downloads"

    def hub_init() -> str:
        author.modahub("hub", "keygen", str(key))
        return author.modahub("hub", "init", str(hub), "--key", str(key)).stdout.strip()

    rows: list[tuple[str, float, str]] = []
    article = "an" if args.kind[0] in "aeiou" else "a"
    print(f"journey: {article} {args.kind} for {args.modality}", flush=True)
    timed(rows, "modahub new (flags, no prompts)",
          lambda: str(new(author, tmp / "work", args.name, args.kind, args.modality).relative_to(tmp)))
    timed(rows, "pip install -e . (develop)", develop)
    timed(rows, "pytest (its own tests, incl. the contract)", lambda: own_tests(author, [folder]))
    timed(rows, "modahub test .", lambda: author.modahub("test", ".", cwd=folder).stdout.strip().splitlines()[-1])
    timed(rows, "modahub hub keygen + hub init (once per hub)", hub_init)
    timed(rows, "modahub publish . --hub HUB",
          lambda: author.modahub("publish", ".", "--hub", str(hub), "--key", str(key), cwd=folder).stdout.strip())
    timed(rows, "modahub install (fresh venv, from the hub)",
          lambda: user.modahub("install", dist, "--hub", str(hub)).stdout.strip())
    timed(rows, "modahub list shows it", lambda: "yes" if args.name in user.listed() else "NO")
    if rows[-1][2] != "yes":
        sys.exit(f"modahub list in the fresh venv does not show {args.name}")

    total = sum(seconds for _, seconds, _ in rows)
    print(f"  {'journey total':<44} {total:6.2f} s  target < {TARGET_S:.0f} s: {'met' if total < TARGET_S else 'MISSED'}"
          f" ({total / TARGET_S:.2f} of the target)")

    wheel = next((hub / "artifacts").rglob("*.whl"))
    start = time.perf_counter()
    peer.run("python", "-m", "pip", "install", "-q", "--no-compile", str(wheel))
    pip_s = time.perf_counter() - start
    install_s = next(seconds for label, seconds, _ in rows if label.startswith("modahub install"))
    print(f"peer: pip install of the same wheel file {pip_s:.2f} s; modahub install / pip install = {install_s / pip_s:.2f}")
    if not args.keep:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
