"""Start-up cost of the CLI: `modahub --help` and `modahub list` against `python -c "import click"`.

Measured twice: in the current environment (the first-party plugins), and in a scratch venv that
holds modahub-core, modahub-testing, modahub and 200 generated dummy plugins (each a package with a manifest and
dist-info with its entry point, written straight into site-packages). Prints medians and ratios.

    .venv/bin/python bench/startup.py [--runs 15] [--plugins 200]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_HELP_S = 0.15


def median_wall(cmd: list[str], runs: int) -> float:
    subprocess.run(cmd, check=True, capture_output=True)  # warm the file cache
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(python: Path, runs: int, label: str) -> dict[str, float]:
    modahub = python.with_name("modahub")
    figures = {
        "python -c 'import click'": median_wall([str(python), "-c", "import click"], runs),
        "modahub --help": median_wall([str(modahub), "--help"], runs),
        "modahub list": median_wall([str(modahub), "list"], runs),
        "modahub list --json": median_wall([str(modahub), "list", "--json"], runs),
    }
    base = figures["python -c 'import click'"]
    print(f"\n## {label}")
    print(f"{'command':<28} {'median s':>9} {'ratio':>7}")
    for name, seconds in figures.items():
        print(f"{name:<28} {seconds:>9.3f} {seconds / base:>6.2f}x")
    return figures


def write_dummy_plugins(site: Path, count: int) -> None:
    for i in range(count):
        package = f"modahub_dummy_{i:03d}"
        (site / package).mkdir()
        (site / package / "__init__.py").write_text("raise RuntimeError('dummy plugin code must not run')\n")
        (site / package / "modahub.toml").write_text(
            f'[[executors]]\nname = "dummy-{i:03d}"\nkind = "encoder"\nmodalities = ["text"]\nspace = "dummy"\ndim = 8\n'
        )
        info = site / f"{package}-0.1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: modahub-dummy-{i:03d}\nVersion: 0.1.0\n")
        (info / "entry_points.txt").write_text(f"[modahub]\ndummy-{i:03d} = {package}\n")
        (info / "RECORD").write_text("")


def scratch_venv(folder: Path, plugins: int) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    python = folder / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(ROOT / "core"), str(ROOT / "testing"),
         str(ROOT)],
        check=True,
    )
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    write_dummy_plugins(Path(purelib), plugins)
    return python


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--plugins", type=int, default=200)
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]} on {sysconfig.get_platform()}, {args.runs} runs each, medians")
    here = measure(Path(sys.executable), args.runs, "this environment (first-party plugins)")
    with tempfile.TemporaryDirectory(prefix="modahub-startup-") as tmp:
        python = scratch_venv(Path(tmp) / "venv", args.plugins)
        listing = subprocess.run([str(python.with_name("modahub")), "list", "--json"], capture_output=True, text=True)
        assert listing.returncode == 0 and listing.stdout.count('"name": "dummy-') == args.plugins, listing.stderr
        many = measure(python, args.runs, f"scratch venv with {args.plugins} dummy plugins")
    verdict = "meets" if here["modahub --help"] <= TARGET_HELP_S else "misses"
    print(f"\nmodahub --help median {here['modahub --help']:.3f} s {verdict} the {TARGET_HELP_S} s target;")
    print(f"modahub list with {args.plugins} plugins: {many['modahub list']:.3f} s")


if __name__ == "__main__":
    main()
