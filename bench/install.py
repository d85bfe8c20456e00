"""Benchmark: ``modahub install`` of a published plugin vs ``pip install`` of the same wheel file.

Both run in the same fresh virtual environment, alternating, with the plugin uninstalled between
runs; modahub's time includes its CLI start-up, the registry signature/rollback/expiry checks,
the download (copy) with sha256 verification, the rollback stash and the lock update.
Target: ratio ≤ 1.2. Run: ``.venv/bin/python bench/install.py [--rounds N]``.

``--setups`` then also reports, side by side, a user install (the CLI from the wheels of the
bundled hub's pip index, ``scripts/build-dists``, then ``modahub install`` of the demo's plugins
from the bundled hub) and the developer set-up (``./scripts/setup``): wall time, size on disk, and
whether torch or ray were pulled. Both use pip's cache and configured indexes as they are.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = "modahub-exact-index"


def run(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}")
    return elapsed


def _size(folder: Path) -> int:
    return sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def _heavy(python: Path) -> str:
    listed = subprocess.run([str(python), "-m", "pip", "list", "--format", "freeze"], capture_output=True, text=True).stdout
    names = {line.split("==")[0].lower() for line in listed.splitlines()}
    return ", ".join(sorted(names & {"torch", "ray"})) or "neither"


def setups(tmp: Path, env: dict[str, str]) -> None:
    """The user install and the developer set-up, side by side."""
    from modahub_hub.demo import PLUGINS
    from modahub_hub.hub.build import build_wheel
    from modahub_hub.hub.dists import tool_folders, write_pip_index

    print("\nuser install vs developer set-up (wall time, size on disk)...", flush=True)
    tools = [build_wheel(folder, tmp / "tools") for folder in tool_folders(ROOT)]
    simple = write_pip_index(ROOT, tools, tmp / "served")
    user = tmp / "user"
    start = time.perf_counter()
    venv.create(user, with_pip=False)
    run([sys.executable, "-m", "pip", "-q", "--python", str(user / "bin" / "python"), "install", "--extra-index-url",
         simple.as_uri() + "/", "pip", "modahub"], env)
    run([str(user / "bin" / "modahub"), "install", *sorted(set(PLUGINS.values()))], env)
    user_s = time.perf_counter() - start
    dev = tmp / "dev"
    dev_s = run([str(ROOT / "scripts" / "setup")], env | {"MODAHUB_VENV": str(dev)})
    rows = [("user install (CLI + demo plugins)", user_s, _size(user), _heavy(user / "bin" / "python")),
            ("developer set-up (./scripts/setup)", dev_s, _size(dev), _heavy(dev / "bin" / "python"))]
    for label, seconds, size, heavy in rows:
        print(f"{label:>36}: {seconds:7.1f}s  {size / 2**20:8.0f} MiB  torch/ray: {heavy}")
    print(f"user/developer: time {user_s / dev_s:.2f}x, size {rows[0][2] / rows[1][2]:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--setups", action="store_true", help="also time the user install and the developer set-up")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="modahub-bench-") as tmp_name:
        tmp = Path(tmp_name)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))}
        env |= {"MODAHUB_CONFIG_DIR": str(tmp / "config"), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        os.environ["MODAHUB_CONFIG_DIR"] = env["MODAHUB_CONFIG_DIR"]
        from modahub_hub.hub.build import build_wheel
        from modahub_hub.hub.dists import tool_folders
        from modahub_hub.hub.publish import init_hub, publish
        from modahub_hub.hub.signing import generate_key

        print("building wheels and a fresh venv (not timed)...", flush=True)
        key = generate_key(tmp / "hub.key")
        init_hub(str(tmp / "hub"), key=key)
        wheel = build_wheel(ROOT / "plugins" / "exact-index", tmp / "wheel")
        publish(wheel, str(tmp / "hub"), key=key, owner="modahub")
        local = tmp / "local"
        pip = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check"]
        subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(local),
                        *map(str, tool_folders(ROOT))], check=True)
        venv.create(tmp / "venv", with_pip=True)
        bin_ = tmp / "venv" / "bin"
        subprocess.run([str(bin_ / "python"), "-m", "pip", "install", "-q", *map(str, local.glob("*.whl"))], check=True, env=env)
        offline = env | {"PIP_NO_INDEX": "1"}
        uninstall = [str(bin_ / "python"), "-m", "pip", "uninstall", "-y", "-q", PLUGIN]
        modahub_cmd = [str(bin_ / "modahub"), "install", PLUGIN, "--hub", str(tmp / "hub")]
        pip_cmd = [str(bin_ / "python"), "-m", "pip", "install", "-q", str(wheel)]
        times: dict[str, list[float]] = {"modahub install": [], "pip install": []}
        run(pip_cmd, offline)  # warm the OS caches once
        run(uninstall, offline)
        for _ in range(args.rounds):
            for label, cmd in (("modahub install", modahub_cmd), ("pip install", pip_cmd)):
                times[label].append(run(cmd, offline))
                run(uninstall, offline)
        for label, values in times.items():
            print(f"{label:>16}: median {statistics.median(values):.2f}s  (runs: {', '.join(f'{v:.2f}' for v in values)})")
        ratio = statistics.median(times["modahub install"]) / statistics.median(times["pip install"])
        print(f"ratio modahub/pip: {ratio:.2f}x (target <= 1.2x)")
        if args.setups:
            setups(tmp, env)


if __name__ == "__main__":
    main()
