"""Size caps and hostile metadata: a download stops at its declared size, metadata is capped and its
signature checked before it is parsed, and every malformed file ends in one line, never a traceback."""

from __future__ import annotations

import json
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner
from crafted import sign_raw
from hub_wheels import publish_unchecked

from modahub_hub.cli import cli
from modahub_hub.hub import registry as registry_module
from modahub_hub.hub.publish import init_hub


class Endless:
    """An HTTP server on 127.0.0.1 that serves a folder, except ``endless`` paths: bytes without end."""

    def __init__(self, folder: Path, endless: set[str]) -> None:
        self.sent: dict[str, int] = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                path = self.path.lstrip("/")
                if path in endless:
                    self.send_response(200)
                    self.end_headers()
                    outer.sent[path] = 0
                    try:
                        while outer.sent[path] < 1 << 30:
                            self.wfile.write(b"\0" * 65536)
                            outer.sent[path] += 65536
                    except OSError:
                        pass
                    return
                file = folder / path
                if not file.is_file():
                    self.send_error(404)
                    return
                data = file.read_bytes()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endless(hub_dir) -> Iterator[callable]:
    servers = []

    def start(*paths: str) -> Endless:
        servers.append(Endless(hub_dir, set(paths)))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def _cli(*args: str):
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output + result.stderr
    return result


def test_an_endless_wheel_download_stops_at_the_declared_size(hub_dir, key, wheel, endless, tmp_path):
    entry = publish_unchecked(wheel("modahub-toy"), str(hub_dir), key=key, owner="acme")
    server = endless(entry.artifact.url)
    _cli("hub", "trust", server.url, key.public.text)
    result = _cli("pull", "modahub-toy", "--hub", server.url, "-d", str(tmp_path / "dl"))
    assert result.exit_code == 3 and "size check failed" in result.stderr
    assert server.sent[entry.artifact.url] < 16 << 20  # it stopped, far from the 1 GiB on offer
    assert list((tmp_path / "dl").iterdir()) == []


def test_an_oversized_wheel_in_a_folder_hub_is_refused_before_it_is_copied(hub_dir, key, wheel, tmp_path):
    entry = publish_unchecked(wheel("modahub-toy"), str(hub_dir), key=key, owner="acme")
    with open(hub_dir / entry.artifact.url, "ab") as fh:
        fh.truncate(1 << 30)  # sparse: 1 GiB on offer, nothing on disk
    result = _cli("pull", "modahub-toy", "--hub", str(hub_dir), "-d", str(tmp_path / "dl"))
    assert result.exit_code == 3 and f"is {1 << 30} bytes" in result.stderr and "size check failed" in result.stderr
    assert list((tmp_path / "dl").iterdir()) == []


def test_an_oversized_wheel_on_hf_is_refused_before_the_download(key, wheel, fake_hf, tmp_path):
    init_hub("hf://acme/plugins", key=key)
    entry = publish_unchecked(wheel("modahub-toy"), "hf://acme/plugins", key=key, owner="acme")
    fake_hf.hub.commit("model", "acme/plugins", None, {entry.artifact.url: b"\0" * (4 << 20)}, "swap the wheel")
    fake_hf.hub.requests.clear()
    result = _cli("pull", "modahub-toy", "--hub", "hf://acme/plugins", "-d", str(tmp_path / "dl"))
    assert result.exit_code == 3 and "size check failed" in result.stderr
    assert not [r for r in fake_hf.hub.requests if r.startswith("GET") and r.endswith(".whl")]


def test_an_endless_registry_is_capped(hub_dir, key, endless):
    server = endless("registry.json")
    _cli("hub", "trust", server.url, key.public.text)
    result = _cli("search", "--hub", server.url)
    assert result.exit_code == 3 and "size check failed" in result.stderr
    assert server.sent["registry.json"] < 64 << 20


def test_the_metadata_cap_is_configurable(hub_dir, key, wheel, monkeypatch):
    publish_unchecked(wheel("modahub-toy"), str(hub_dir), key=key, owner="acme")
    monkeypatch.setenv("MODAHUB_MAX_METADATA_BYTES", "1000")
    result = _cli("search", "--hub", str(hub_dir))
    assert result.exit_code == 3 and "more than the 1000 allowed" in result.stderr


def test_an_unsigned_registry_is_never_parsed(hub_dir, monkeypatch):
    (hub_dir / "registry.json").write_bytes(b'{"plugins":' + b"[" * 100000 + b"]" * 100000 + b"}")
    parsed = []
    monkeypatch.setattr(registry_module.Registry, "from_bytes", classmethod(lambda cls, *a, **k: parsed.append(a)))
    result = _cli("search", "--hub", str(hub_dir))
    assert result.exit_code == 3 and "signature check failed" in result.stderr and parsed == []


BAD_SIGNATURES = [
    b"",
    b"\xff\xfe not utf-8",
    b"[]",
    b'{"signatures": "abc"}',
    b'{"signatures": [{"keyid": 1, "sig": "abc"}]}',
    b'{"signatures": [{"keyid": ["x"], "sig": "abc"}]}',
    b'{"signatures": [{"keyid": "abc", "sig": 5}]}',
    b'{"signatures": [{"keyid": "abc", "sig": "\xe2\x82\xac\xe2\x82\xac"}]}',
    b'{"signatures": [{"keyid": "abc", "sig": "abc", "sha256": {}}]}',
    b'{"signatures": ' + b"[" * 50000 + b"]" * 50000 + b"}",
]


@pytest.mark.parametrize("content", BAD_SIGNATURES)
def test_malformed_signature_files_end_in_one_line(hub_dir, content):
    (hub_dir / "registry.json.sig").write_bytes(content)
    result = _cli("search", "--hub", str(hub_dir))
    assert result.exit_code == 3 and "signature check failed" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def _plugin(**changes) -> dict:
    name = "modahub_toy-0.1.0-py3-none-any.whl"
    art = {"kind": "wheel", "filename": name, "url": f"artifacts/{name}", "size": 1, "sha256": "0" * 64}
    version = {"version": "0.1.0", "entry_point": "toy = modahub_toy.plugin", "artifact": art,
               "published_at": "2026-01-01T00:00:00Z", "manifest": {"schema_version": 1, "executors": []}}
    return {"name": "modahub-toy", "owner": "acme", "versions": {"0.1.0": version}} | changes


SIGNED_BUT_BROKEN = [
    b"\xff\xfe\x00not utf-8",
    b"not json",
    b"[" * 100000 + b"]" * 100000,
    json.dumps({"version": "one"}).encode(),
    json.dumps({"plugins": []}).encode(),
    json.dumps({"plugins": {"modahub-toy": _plugin(name="modahub-t\u00f6y")}}, ensure_ascii=False).encode(),
    json.dumps({"plugins": {"modahub-toy": _plugin(owner=["x"])}}).encode(),
    json.dumps({"plugins": {"modahub-toy": _plugin(versions={"0.1.0": {"version": 10**400}})}}).encode(),
    json.dumps({"plugins": {"modahub-toy": _plugin(versions={"0.1.0": "x" * 100000})}}).encode(),
]


@pytest.mark.parametrize("content", SIGNED_BUT_BROKEN)
def test_malformed_signed_registries_end_in_one_line(hub_dir, key, content):
    if content.startswith(b"{"):
        base = json.loads((hub_dir / "registry.json").read_bytes())
        content = json.dumps(base | json.loads(content), ensure_ascii=False).encode()
    sign_raw(hub_dir, key, content)
    for command in (["search", "--hub", str(hub_dir)], ["install", "modahub-toy", "--hub", str(hub_dir)]):
        result = _cli(*command)
        assert result.exit_code == 1 and len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "not a valid modahub registry" in result.stderr
        assert len(result.stderr) < 2000


def test_a_wheel_with_non_utf8_metadata_is_refused_in_one_line(hub_dir, key, wheel):
    path = wheel("modahub-toy")
    with zipfile.ZipFile(path) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    files["modahub_toy-0.1.0.dist-info/METADATA"] = b"Name: modahub-toy\nVersion: 0.1.0\nSummary: \xff\xfe\n"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    result = _cli("publish", str(path), "--hub", str(hub_dir), "--key", str(key.path))
    assert result.exit_code == 1 and "is not UTF-8 text" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
