"""A local stand-in for the Hugging Face Hub HTTP API: just what huggingface_hub's client uses to
create a repo, commit files (preupload + commit, with ``parentCommit`` checked), read repo info at
a revision, and download a file (``resolve``). Repos live in memory; uploads are
always "regular" (inline base64), so clients must run with ``HF_HUB_DISABLE_XET=1``.
Binds 127.0.0.1 only.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

_REPO = r"(?P<type>models|datasets|spaces)/(?P<repo>[^/]+/[^/]+)"
_RESOLVE = r"/(?:(?P<type>datasets|spaces)/)?(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<file>.+)"


@dataclass
class Repo:
    commits: dict[str, dict[str, bytes]] = field(default_factory=dict)  # commit -> path -> bytes
    head: str = ""
    log: list[str] = field(default_factory=list)


class FakeHub:
    """The server's state, shared by its handler threads."""

    def __init__(self) -> None:
        self.repos: dict[tuple[str, str], Repo] = {}
        self.lock = threading.Lock()
        self.requests: list[str] = []
        self.conflicts = 0

    def create(self, kind: str, repo_id: str) -> bool:
        with self.lock:
            if (kind, repo_id) in self.repos:
                return False
            repo = Repo()
            empty = hashlib.sha1(f"init {repo_id}".encode()).hexdigest()
            repo.commits[empty], repo.head = {}, empty
            self.repos[(kind, repo_id)] = repo
            return True

    def commit(self, kind: str, repo_id: str, parent: str | None, files: dict[str, bytes], message: str) -> str | None:
        """The new commit id, or None when ``parent`` is not the head (someone committed in between)."""
        with self.lock:
            repo = self.repos[(kind, repo_id)]
            if parent is not None and parent != repo.head:
                self.conflicts += 1
                return None
            tree = dict(repo.commits[repo.head]) | files
            digests = sorted((p, hashlib.sha256(b).hexdigest()) for p, b in tree.items())
            oid = hashlib.sha1(json.dumps([repo.head, message, digests]).encode()).hexdigest()
            repo.commits[oid], repo.head = tree, oid
            repo.log.append(message)
            return oid


def _handler(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for k, v in (headers or {"Content-Type": "application/json"}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _json(self, status: int, data: object) -> None:
            self._send(status, json.dumps(data).encode())

        def _error(self, status: int, message: str, code: str = "") -> None:
            headers = {"Content-Type": "application/json", "X-Error-Message": message}
            if code:
                headers["X-Error-Code"] = code
            self._send(status, json.dumps({"error": message}).encode(), headers)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _repo(self, kind: str, repo_id: str) -> Repo | None:
            repo = hub.repos.get((kind.rstrip("s"), repo_id))
            if repo is None:
                self._error(404, f"Repository {repo_id} not found", "RepoNotFound")
            return repo

        def _rev(self, repo: Repo, rev: str) -> str | None:
            rev = unquote(rev)
            commit = repo.head if rev in ("main", "") else rev if rev in repo.commits else None
            if commit is None:
                self._error(404, f"Invalid rev id: {rev}", "RevisionNotFound")
            return commit

        def do_POST(self) -> None:  # noqa: N802
            path = urlsplit(self.path).path
            hub.requests.append(f"POST {path}")
            if path == "/api/repos/create":
                data = json.loads(self._body())
                repo_id = f"{data.get('organization') or 'user'}/{data['name']}"
                if not hub.create(data.get("type") or "model", repo_id):
                    return self._error(409, "You already created this repo")
                return self._json(200, {"url": f"http://{self.headers['Host']}/{repo_id}", "name": repo_id})
            if m := re.fullmatch(rf"/api/{_REPO}/preupload/(?P<rev>[^/]+)", path):
                data = json.loads(self._body())
                if self._repo(m["type"], m["repo"]) is None:
                    return
                files = [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in data["files"]]
                return self._json(200, {"files": files})
            if m := re.fullmatch(rf"/api/{_REPO}/commit/(?P<rev>[^/]+)", path):
                return self._commit(m)
            self._error(404, f"no route POST {path}")

        def _commit(self, m: re.Match[str]) -> None:
            body = self._body()
            repo = self._repo(m["type"], m["repo"])
            if repo is None:
                return
            header: dict[str, object] = {}
            files: dict[str, bytes] = {}
            for line in body.decode().splitlines():
                item = json.loads(line)
                if item["key"] == "header":
                    header = item["value"]
                elif item["key"] == "file":
                    files[item["value"]["path"]] = base64.b64decode(item["value"]["content"])
                else:
                    return self._error(400, f"operation {item['key']} is not supported by the fake hub")
            oid = hub.commit(m["type"].rstrip("s"), m["repo"], header.get("parentCommit"), files, str(header.get("summary")))  # type: ignore[arg-type]
            if oid is None:
                return self._error(412, "A commit has happened since. Please refresh and try again.")
            self._json(200, {"commitUrl": f"http://{self.headers['Host']}/{m['repo']}/commit/{oid}", "commitOid": oid})

        def do_GET(self) -> None:  # noqa: N802
            path = unquote(urlsplit(self.path).path)
            hub.requests.append(f"{self.command} {path}")
            if m := re.fullmatch(rf"/api/{_REPO}(/revision/(?P<rev>[^/]+))?", path):
                repo = self._repo(m["type"], m["repo"])
                commit = repo and self._rev(repo, m["rev"] or "main")
                if commit:
                    siblings = [{"rfilename": p} for p in sorted(repo.commits[commit])]  # type: ignore[union-attr]
                    self._json(200, {"id": m["repo"], "sha": commit, "siblings": siblings, "private": False})
                return
            if m := re.fullmatch(_RESOLVE, path):
                repo = self._repo(m["type"] or "models", m["repo"])
                commit = repo and self._rev(repo, m["rev"])
                if not commit:
                    return
                data = repo.commits[commit].get(m["file"])  # type: ignore[union-attr]
                if data is None:
                    return self._error(404, f"Entry not found: {m['file']}", "EntryNotFound")
                headers = {"Content-Type": "application/octet-stream", "X-Repo-Commit": commit,
                           "ETag": f'"{hashlib.sha256(data).hexdigest()}"'}
                return self._send(200, data, headers)
            self._error(404, f"no route GET {path}")

        do_HEAD = do_GET  # noqa: N815

    return Handler


class FakeHfServer:
    """Start with ``with FakeHfServer() as server:``; ``server.endpoint`` is its base URL."""

    def __init__(self) -> None:
        self.hub = FakeHub()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.hub))
        self.endpoint = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeHfServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
