"""Benchmark: a hub of 100,000 plugins x 5 versions, read by a cold and a warm client.

Generates, with real ed25519 signatures and generated metadata, the same plugins three ways:
a TUF hub (hash bins, one delegated role per owner key, 10 plugins per owner), today's legacy hub
(one signed registry.json), and a PEP 503 ``simple/`` tree for pip. One plugin is real (a small
wheel); every other wheel is only described. All three are served by one HTTP server on
127.0.0.1 that counts the bytes it sends, and a fresh venv with modahub runs:

- ``modahub search WORD --hub URL`` (cold: empty config dir; warm: the same config dir again);
- ``modahub install PLUGIN --hub URL`` (cold and warm; uninstalled between runs);
- ``pip install --no-deps --index-url URL/simple PLUGIN`` (cold: empty cache; warm: same cache).

It prints metadata bytes (everything but the wheel) and wall time per case, and the ratios the
targets are about: modahub install / pip install (target <= 1.2), install metadata (< 1 MB), warm
search (< 0.3 s).

Run: ``.venv/bin/python bench/hub_scale.py [--plugins 100000] [--versions 5] [--legacy-plugins N]
[--workdir DIR] [--no-legacy]`` (``--legacy-plugins`` builds the legacy registry at a smaller size when memory is
short; the report says which size each row had; ``--workdir`` keeps the generated hubs and venv, and
a second run with the same folder measures them again without generating, with this checkout's
modahub reinstalled in the kept venv; ``--no-legacy`` leaves out the legacy rows). Today's client caps a
registry at ``$MODAHUB_MAX_METADATA_BYTES`` (32 MiB): for the legacy rows the cap is raised to the
registry's size, so that the comparison measures reading it rather than refusing it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import venv
from datetime import UTC, datetime, timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "hub"))  # the synthetic plugin wheel of the hub tests
REAL = "modahub-scale-target"
WORDS = ("text image audio video vector index search rerank embed caption speech ocr table graph mesh time series "
         "sparse dense quantized multilingual clip whisper bert vit detector segment pose depth tracker").split()
MODALITIES = ("text", "image", "audio", "video", "*")
KINDS = ("encoder", "indexer", "generator")


class Counter:
    """Bytes sent per request path, by the bench's HTTP server."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sent: list[tuple[str, int]] = []

    def take(self) -> list[tuple[str, int]]:
        with self.lock:
            out, self.sent = self.sent, []
        return out


def serve(folder: Path, counter: Counter) -> tuple[ThreadingHTTPServer, str]:
    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def copyfile(self, source, outputfile) -> None:  # type: ignore[override]
            data = source.read()
            outputfile.write(data)
            with counter.lock:
                counter.sent.append((self.path, len(data)))

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def plugin_names(count: int) -> list[str]:
    return [f"modahub-gen-{i:06d}" for i in range(count - 1)] + [REAL]


def generated_plugin(name: str, versions: int, rng: random.Random, published: str) -> dict:
    """A plugin entry (the registry schema) with ``versions`` versions of made-up wheels."""
    summary = " ".join(rng.sample(WORDS, 5))
    kind, modality = rng.choice(KINDS), rng.choice(MODALITIES)
    executor = name.removeprefix("modahub-")
    dist = name.replace("-", "_")
    entries = {}
    for v in range(versions):
        version = f"0.{v}.0"
        wheel = f"{dist}-{version}-py3-none-any.whl"
        executor_spec = {"kind": kind, "modalities": [modality], "name": executor, "summary": summary}
        if kind == "encoder":
            executor_spec |= {"space": f"{executor}-space", "dim": 384}
        if kind == "generator":
            executor_spec |= {"output_modality": "text"}
        entries[version] = {
            "version": version, "requires_core": "<0.3,>=0.2", "requires_python": ">=3.10",
            "dependencies": ["modahub-core<0.3,>=0.2"], "entry_point": f"{executor} = {dist}.plugin",
            "manifest": {"schema_version": 1, "executors": [executor_spec]},
            "artifact": {"kind": "wheel", "filename": wheel, "url": f"artifacts/{wheel}", "size": 5000 + v,
                         "sha256": hashlib.sha256(wheel.encode()).hexdigest()},
            "published_at": published, "yanked": False,
        }
    latest = f"0.{versions - 1}.0"
    return {"name": name, "summary": summary, "owner": "", "license": "Apache-2.0", "status": "active",
            "dist_tags": {"latest": latest}, "versions": entries}


def real_plugin(wheel: Path, published: str) -> dict:
    from modahub_hub.hub.wheels import inspect_wheel

    info = inspect_wheel(wheel)
    return {"name": info.name, "summary": info.summary, "owner": "", "license": "Apache-2.0", "status": "active",
            "dist_tags": {"latest": info.version}, "versions": {info.version: {
                "version": info.version, "requires_core": info.requires_core, "requires_python": info.requires_python,
                "dependencies": info.dependencies, "entry_point": info.entry_point,
                "manifest": info.manifest.model_dump(mode="json", exclude_defaults=True),
                "artifact": {"kind": "wheel", "filename": wheel.name, "url": f"artifacts/{wheel.name}", "size": info.size,
                             "sha256": info.sha256},
                "published_at": published, "yanked": False}}}


def build_tuf(folder: Path, plugins: list[dict], wheel: Path, hub_key, owner_keys: list, per_owner: int) -> None:
    """The TUF hub: one transaction that delegates every name and signs every role (the library's own code)."""
    from modahub_hub.hub.backends import FolderBackend
    from modahub_hub.hub.registry import PluginEntry
    from modahub_hub.hub.tuf_layout import TARGETS_DIR, plugin_dir, plugin_target
    from modahub_hub.hub.tuf_repo import Keyring, Settings, index_row, init

    class Unsynced(FolderBackend):
        """Writes without fsync: 100,000 files on a shared disk; the bench does not test durability."""

        def commit(self, writes, *, parent, message) -> None:
            made: set[Path] = set()
            for path, content in writes:
                target = self.root / path
                if target.parent not in made:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    made.add(target.parent)
                target.write_bytes(content.read_bytes() if isinstance(content, Path) else content)

    tx = init(Unsynced(folder), [hub_key], Settings(bin_digits=2, expires_days=90))
    rows = {}
    for i, plugin in enumerate(plugins):
        owner = owner_keys[i // per_owner]
        role = tx.delegate(plugin["name"], [owner.public])
        plugin = dict(plugin, owner=role)
        if plugin["name"] == REAL:
            plugin = json.loads(json.dumps(plugin))  # the legacy and pip copies keep their URLs
            info = tx.add_target(role, f"{plugin_dir(REAL, tx.digits)}/{wheel.name}", wheel)
            version = next(iter(plugin["versions"].values()))
            version["artifact"]["url"] = f"{TARGETS_DIR}/{plugin_dir(REAL, tx.digits)}/{info.hashes['sha256']}.{wheel.name}"
        data = json.dumps(plugin, separators=(",", ":")).encode()
        tx.add_target(role, plugin_target(plugin["name"], tx.digits), data)
        entry = PluginEntry.model_validate_json(data)
        rows[entry.name] = json.dumps(index_row(entry), separators=(",", ":"), ensure_ascii=False)
    tx.write_index(rows)
    tx.commit(Keyring([hub_key, *owner_keys]), "generated", parent=None)


def build_legacy(folder: Path, plugins: list[dict], wheel: Path, hub_key) -> None:
    """Today's hub: one registry.json holding every version of every plugin, signed as a whole."""
    from modahub_hub.hub.registry import RegistryKey, normalize
    from modahub_hub.hub.signing import signature_file

    now = datetime.now(UTC).replace(microsecond=0)
    registry = {
        "schema_version": 1, "version": 1, "generated_at": now.isoformat(), "expires": (now + timedelta(days=90)).isoformat(),
        "expires_after_days": 90, "files_dir": "",
        "keys": [RegistryKey(keyid=hub_key.public.keyid, public=hub_key.public.text).model_dump()],
        "plugins": {normalize(p["name"]): dict(p, owner="generated") for p in plugins},
    }
    data = json.dumps(registry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    (folder / "artifacts").mkdir(parents=True)
    (folder / "artifacts" / wheel.name).write_bytes(wheel.read_bytes())
    (folder / "registry.json").write_bytes(data)
    (folder / "registry.json.sig").write_bytes(signature_file([hub_key.sign(data)]))


def build_simple(folder: Path, plugins: list[dict], wheel: Path) -> None:
    """A PEP 503 tree of the same plugins (what pip reads)."""
    from modahub_hub.hub.registry import normalize

    head = '<!DOCTYPE html>\n<html><head><meta name="pypi:repository-version" content="1.0"></head><body>\n'
    names = sorted(normalize(p["name"]) for p in plugins)
    folder.mkdir(parents=True)
    (folder / "index.html").write_text(head + "".join(f'<a href="{n}/">{n}</a><br>\n' for n in names) + "</body></html>\n")
    (folder / "files").mkdir()
    (folder / "files" / wheel.name).write_bytes(wheel.read_bytes())
    for plugin in plugins:
        page = folder / normalize(plugin["name"])
        page.mkdir()
        links = "".join(
            f'<a href="../files/{v["artifact"]["filename"]}#sha256={v["artifact"]["sha256"]}" '
            f'data-requires-python="&gt;=3.10">{v["artifact"]["filename"]}</a><br>\n'
            for v in plugin["versions"].values()
        )
        (page / "index.html").write_text(head + links + "</body></html>\n")


def fresh_venv(tmp: Path, env: dict[str, str]) -> Path:
    """A venv with modahub-core, modahub-testing and modahub installed from wheels of this checkout (as users get them).

    A venv kept from an earlier run (``--workdir``) gets this checkout's wheels again, so that it measures today's code.
    """
    local = tmp / "local"
    shutil.rmtree(local, ignore_errors=True)
    pip = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check"]
    from modahub_hub.hub.dists import tool_folders

    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(local), *map(str, tool_folders(ROOT))],
                   check=True)
    python = tmp / "venv" / "bin" / "python"
    again = python.exists()
    if not again:
        venv.create(tmp / "venv", with_pip=True)
    wheels = [str(w) for w in local.glob("*.whl")]
    pip = [str(python), "-m", "pip", "install", "-q"]
    if again:  # same version numbers: pip would keep the old files without --force-reinstall
        subprocess.run([*pip, "--force-reinstall", "--no-deps", *wheels], check=True, env=env)
    subprocess.run([*pip, *wheels], check=True, env=env)  # and the dependencies they add
    return tmp / "venv" / "bin"


def timed(cmd: list[str], env: dict[str, str], counter: Counter) -> tuple[float, float, int, int]:
    """Wall time, CPU time (the command and its children), metadata bytes and wheel bytes the server sent."""
    counter.take()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if proc.returncode != 0:
        print(f"FAILED ({elapsed:.1f} s): {' '.join(cmd)}\n{proc.stderr.strip()[-2000:]}", flush=True)
    sent = counter.take()
    wheels = sum(n for path, n in sent if path.endswith(".whl"))
    return elapsed, cpu, sum(n for _, n in sent) - wheels, wheels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plugins", type=int, default=100_000)
    parser.add_argument("--versions", type=int, default=5)
    parser.add_argument("--per-owner", type=int, default=10, help="plugins per owner key")
    parser.add_argument("--legacy-plugins", type=int, default=None, help="size of the legacy registry (default: --plugins)")
    parser.add_argument("--rounds", type=int, default=3, help="warm runs per case (the median is reported)")
    parser.add_argument("--workdir", type=Path, help="keep the hubs and venv here (reused when already generated)")
    parser.add_argument("--no-legacy", action="store_true", help="skip the legacy registry's rows (minutes each at 100k)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="modahub-scale-") as tmp_name:
        tmp = args.workdir.resolve() if args.workdir else Path(tmp_name)
        tmp.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))}
        env |= {"PIP_DISABLE_PIP_VERSION_CHECK": "1", "MODAHUB_CONFIG_DIR": str(tmp / "builder-config")}
        os.environ["MODAHUB_CONFIG_DIR"] = env["MODAHUB_CONFIG_DIR"]
        from hub_wheels import make_wheel

        from modahub_hub.hub.signing import generate_key, load_key

        site = tmp / "site"
        names = plugin_names(args.plugins)
        if (site / "simple").is_dir():
            print(f"reusing the hubs generated in {tmp}; reinstalling this checkout's modahub in its venv", flush=True)
            serve_and_report(args, fresh_venv(tmp, env), env, tmp, load_key(tmp / "keys" / "hub.key"), names)
            return
        print("building a fresh venv with modahub (not timed)...", flush=True)
        bin_ = fresh_venv(tmp, env)
        wheel = make_wheel(tmp / "wheel", REAL, summary="the plugin the bench installs")
        rng = random.Random(13)
        published = datetime.now(UTC).replace(microsecond=0).isoformat()
        start = time.perf_counter()
        plugins = [generated_plugin(n, args.versions, rng, published) for n in names[:-1]]
        plugins.append(real_plugin(wheel, published))
        hub_key = generate_key(tmp / "keys" / "hub.key")
        owner_keys = [generate_key(tmp / "keys" / f"owner-{i}.key") for i in range(-(-args.plugins // args.per_owner))]
        print(f"generated {args.plugins} plugins x {args.versions} versions, {len(owner_keys)} owner keys "
              f"in {time.perf_counter() - start:.1f} s", flush=True)
        for label, build in (
            ("TUF hub", lambda: build_tuf(site / "tuf", plugins, wheel, hub_key, owner_keys, args.per_owner)),
            ("legacy registry", lambda: build_legacy(site / "legacy", plugins[-(args.legacy_plugins or args.plugins):],
                                                     wheel, hub_key)),
            ("PEP 503 tree", lambda: build_simple(site / "simple", plugins, wheel)),
        ):
            start = time.perf_counter()
            build()
            print(f"built the {label} in {time.perf_counter() - start:.1f} s "
                  f"(peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)", flush=True)
        serve_and_report(args, bin_, env, tmp, hub_key, names)


def serve_and_report(args, bin_: Path, env: dict[str, str], tmp: Path, hub_key, names: list[str]) -> None:
    counter = Counter()
    server, base = serve(tmp / "site", counter)
    try:
        report(args, bin_, base, env, counter, tmp, hub_key, names)
    finally:
        server.shutdown()


def report(args, bin_: Path, base: str, env: dict[str, str], counter: Counter, tmp: Path, hub_key, names) -> None:
    query = names[len(names) // 2].removeprefix("modahub-")
    rows = []
    legacy_size = args.legacy_plugins or args.plugins
    registry_bytes = (tmp / "site" / "legacy" / "registry.json").stat().st_size
    print(f"{'client':<28} {'operation':<8} {'state':<5} {'metadata bytes':>15} {'wall s':>8} {'cpu s':>7}", flush=True)

    def measure(label: str, op: str, state: str, cmd: list[str], run_env: dict[str, str]) -> None:
        result = timed(cmd, run_env, counter)
        rows.append((label, op, state, *result))
        print(f"{label:<28} {op:<8} {state:<5} {result[2]:>15,} {result[0]:>8.3f} {result[1]:>7.3f}", flush=True)

    from modahub_hub.hub.tuf_client import genesis_identity
    from modahub_hub.hub.tuf_layout import GENESIS_ROOT

    tuf_identity = genesis_identity((tmp / "site" / "tuf" / GENESIS_ROOT).read_bytes())

    def client(hub: str, name: str, legacy: bool) -> dict[str, str]:
        """A user config that trusts the hub key for the hub's identity (a legacy registry without a name: its URL)."""
        config = tmp / f"config-{name}"
        shutil.rmtree(config, ignore_errors=True)
        config.mkdir()
        identity = hub if legacy else tuf_identity
        (config / "config.json").write_text(json.dumps({"hubs": {identity: {"keys": [hub_key.public.text]}}}))
        run_env = env | {"MODAHUB_CONFIG_DIR": str(config)}
        if legacy:  # let today's client read a registry over its 32 MiB cap at all
            run_env["MODAHUB_MAX_METADATA_BYTES"] = str(registry_bytes + 1)
        return run_env

    uninstall = [str(bin_ / "python"), "-m", "pip", "uninstall", "-y", "-q", REAL]
    tuf, legacy = f"{base}/tuf/", f"{base}/legacy/"
    search_env = client(tuf, "tuf-search", False)
    for state in ("cold", *["warm"] * args.rounds):
        measure("TUF", "search", state, [str(bin_ / "modahub"), "search", query, "--json", "--hub", tuf], search_env)
    install_env, cache = client(tuf, "tuf-install", False), tmp / "pip-cache"
    shutil.rmtree(cache, ignore_errors=True)
    pip = [str(bin_ / "python"), "-m", "pip", "install", "-q", "--no-deps", "--cache-dir", str(cache),
           "--index-url", f"{base}/simple/", REAL]
    for state in ("cold", *["warm"] * args.rounds):  # modahub and pip alternate, so both see the same load
        measure("TUF", "install", state, [str(bin_ / "modahub"), "install", REAL, "--hub", tuf], install_env)
        subprocess.run(uninstall, env=env)
        (tmp / "config-tuf-install" / "plugins.lock").unlink(missing_ok=True)  # warm: metadata cached, plugin not installed
        measure("pip (PEP 503)", "install", state, pip, env)
        subprocess.run(uninstall, env=env)
    label = f"legacy ({legacy_size} plugins)"
    for op, cmd in () if args.no_legacy else (("search", ["search", query, "--json"]), ("install", ["install", REAL])):
        legacy_env = client(legacy, f"legacy-{op}", True)
        for state in ("cold", "warm"):  # nothing is cached: warm is a second run
            measure(label, op, state, [str(bin_ / "modahub"), *cmd, "--hub", legacy], legacy_env)
            if op == "install":
                subprocess.run(uninstall, env=env)
                (tmp / f"config-legacy-{op}" / "plugins.lock").unlink(missing_ok=True)
    summary = _summarise(rows)
    print(f"\nhub of {args.plugins} plugins x {args.versions} versions; warm = median of {args.rounds} runs")
    print(f"{'client':<28} {'operation':<8} {'state':<5} {'metadata bytes':>15} {'wall s':>8} {'cpu s':>7}")
    for (client, op, state), (wall, cpu, meta) in summary.items():
        print(f"{client:<28} {op:<8} {state:<5} {int(meta):>15,} {wall:>8.3f} {cpu:>7.3f}")
    tuf_install = {s: summary[("TUF", "install", s)] for s in ("cold", "warm")}
    pip_install = {s: summary[("pip (PEP 503)", "install", s)] for s in ("cold", "warm")}
    print()
    for state in ("cold", "warm"):
        wall, cpu = (tuf_install[state][i] / pip_install[state][i] for i in (0, 1))
        print(f"modahub install / pip install ({state}): {wall:.2f}x wall, {cpu:.2f}x cpu (target <= 1.2); "
              f"metadata {tuf_install[state][2] / 1e6:.3f} MB (target < 1 MB)")
    wall, cpu, _ = summary[("TUF", "search", "warm")]
    print(f"warm search: {wall:.3f} s wall, {cpu:.3f} s cpu (target < 0.3 s)")


def _summarise(rows: list[tuple]) -> dict[tuple[str, str, str], tuple[float, float, int]]:
    import statistics

    grouped: dict[tuple[str, str, str], list[tuple[float, float, int]]] = {}
    for client, op, state, wall, cpu, meta, _ in rows:
        grouped.setdefault((client, op, state), []).append((wall, cpu, meta))
    return {k: tuple(statistics.median(x[i] for x in v) for i in range(3)) for k, v in grouped.items()}  # type: ignore[misc]


if __name__ == "__main__":
    main()
