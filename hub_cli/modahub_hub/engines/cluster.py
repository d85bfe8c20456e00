"""A multi-node Ray cluster on this machine, made of real ``ray start`` processes bound to 127.0.0.1.

For trying ``--address`` on one machine, for the tests and for ``bench/ray.py``: the head and each
further node are separate process trees (GCS, raylet, agents, workers), each node with its own
CPUs and a custom resource ``node-<i>`` so work can be placed on it. Every listener is on loopback,
usage statistics are off, there is no dashboard, and session files go under ``folder``. Stopping
ends exactly the processes this object started (never ``ray stop``, which would end every Ray
cluster on the machine).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from modahub_hub.containers.proxy import free_port
from modahub_hub.engines.ray_engine import LOOPBACK_ENV, START_ENV, EngineError

_JOIN = """
import sys
import ray._private.ray_constants as constants
import ray._private.services as services
from ray.scripts.scripts import main

# LOOPBACK_ENV keeps the node on 127.0.0.1, but 'ray start --address' refuses to join a cluster under it;
# only this process lifts the refusal (its node address stays loopback), the processes it starts inherit the setting
constants.ENABLE_RAY_CLUSTER = True
services.get_node_ip_address = lambda address=None: services.get_localhost_ip()
sys.exit(main())
"""


class LocalCluster:
    """``nodes[i]`` CPUs on node ``i`` (node 0 is the head); ``with LocalCluster(folder) as c: c.address``."""

    def __init__(self, folder: str | Path, nodes: Sequence[int] = (2, 1), *, timeout: float = 300.0) -> None:
        if not nodes or min(nodes) < 0:
            raise EngineError(f"a cluster needs at least a head node and CPU counts >= 0, got {list(nodes)}")
        self.folder, self.nodes, self.timeout = Path(folder).resolve(), list(nodes), timeout
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self._procs: list[subprocess.Popen[bytes]] = []

    def _ray(self) -> str:
        found = Path(sys.executable).with_name("ray")
        if found.exists():
            return str(found)
        which = shutil.which("ray")
        if which is None:
            raise EngineError("the 'ray' command is not installed: pip install 'modahub[ray]'")
        return which

    def _start_node(self, index: int, cpus: int) -> None:
        common = ["--block", "--node-ip-address", "127.0.0.1", "--num-cpus", str(cpus), "--num-gpus", "0",
                  "--resources", f'{{"node-{index}": 1}}', "--disable-usage-stats",
                  "--node-manager-port", str(free_port()), "--object-manager-port", str(free_port()),
                  "--metrics-export-port", str(free_port()), "--dashboard-agent-listen-port", str(free_port()),
                  "--dashboard-agent-grpc-port", str(free_port()), "--runtime-env-agent-port", str(free_port())]
        if index == 0:
            command = [self._ray(), "start", "--head", "--port", str(self.port), "--include-dashboard", "false",
                       "--ray-client-server-port", str(free_port()), "--temp-dir", str(self.folder / "ray"), *common]
        else:
            command = [sys.executable, "-c", _JOIN, "start", "--address", self.address,
                       "--temp-dir", str(self.folder / "ray"), *common]
        env = {**os.environ, **LOOPBACK_ENV, **self.client_env, "RAY_USAGE_STATS_ENABLED": "0",
               "AUTOSCALER_METRIC_PORT": str(free_port()), "DASHBOARD_METRIC_PORT": str(free_port()), **START_ENV}
        env.pop("RAY_ADDRESS", None)
        with (self.folder / f"node-{index}.log").open("wb") as log:
            proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        if index < len(self._procs):
            self._procs[index] = proc
        else:
            self._procs.append(proc)

    client_env = {"RAY_AUTH_MODE": "token"}
    """What a driver that attaches needs in its environment: the nodes require Ray's token authentication
    (the token is Ray's default one, ``~/.ray/auth_token``)."""

    def start(self) -> LocalCluster:
        """Start the head, then each other node, each once up before the next.

        Ray gives a starting node 30 s to register, which a loaded machine can miss: a node whose
        ``ray start`` gave up is started again (its leftover processes ended first), within ``timeout``.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.timeout
        for index, cpus in enumerate(self.nodes):
            self._start_node(index, cpus)
            while not self._started(index):
                if self._procs[index].poll() is not None and time.monotonic() < deadline:
                    self._end(self._procs[index])
                    self._start_node(index, cpus)
                elif time.monotonic() > deadline or any(p.poll() is not None for p in self._procs[:index]):
                    logs = "\n".join(f.read_text(errors="replace")[-2000:] for f in sorted(self.folder.glob("node-*.log")))
                    self.stop()
                    raise EngineError(f"the local Ray cluster did not start (node {index} of {len(self.nodes)}): {logs}")
                time.sleep(0.2)
        return self

    def _started(self, index: int) -> bool:
        """Whether node ``index`` is up: its ``ray start --block`` says so once the node has joined."""
        log = self.folder / f"node-{index}.log"
        return log.exists() and "Ray runtime started" in log.read_text(errors="replace")

    def pids(self, node: int | None = None) -> list[int]:
        """Every live process of this cluster (or of node ``node``): ``ray start`` and all its descendants."""
        import psutil

        found: list[int] = []
        for proc in self._procs if node is None else self._procs[node:node + 1]:
            try:
                parent = psutil.Process(proc.pid)
                found += [parent.pid, *(c.pid for c in parent.children(recursive=True))]
            except psutil.NoSuchProcess:
                continue
        return found

    def processes(self, node: int) -> list[str]:
        """The command lines of node ``node``'s processes (Ray names actors' processes ``ray::Class``)."""
        import psutil

        lines = []
        for pid in self.pids(node):
            try:
                lines.append(" ".join(psutil.Process(pid).cmdline()))
            except psutil.NoSuchProcess:
                continue
        return lines

    @staticmethod
    def _end(proc: subprocess.Popen[bytes]) -> None:
        """End what a failed ``ray start`` left behind: its process group (its own session, started by us)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def stop(self) -> None:
        """End this cluster's processes: SIGTERM to each, then SIGKILL to those still there after a while."""
        import psutil

        procs = []
        for pid in self.pids():
            try:
                procs.append(psutil.Process(pid))
            except psutil.NoSuchProcess:
                continue
        for proc in reversed(procs):  # descendants first
            try:
                proc.send_signal(signal.SIGTERM)
            except psutil.NoSuchProcess:
                continue
        _, alive = psutil.wait_procs(procs, timeout=5)
        for proc in alive:
            try:
                proc.kill()
            except psutil.NoSuchProcess:
                continue
        for proc in self._procs:
            self._end(proc)  # and anything of its process group that left the tree
        self._procs.clear()

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
