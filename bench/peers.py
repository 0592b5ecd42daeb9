"""The peers: Node.js socket.io and python-socketio on aiohttp, installed at run time.

Neither is a dependency of the project and nothing of theirs is committed: socket.io comes
from the npm registry and python-socketio from PyPI, each into a folder under the system's
temporary directory, kept between runs (delete it to reinstall). The servers are our own small
scripts in `bench/peer_servers/`; the load generator speaks socket.io's wire protocol
(Engine.IO v4 over WebSocket) itself, so the same client code measures every server.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .server import ProcessSample, free_port, raise_fd_limit, sample_process, stop_process, wait_for_port

SCRIPTS = Path(__file__).resolve().parent / "peer_servers"
CACHE = Path(tempfile.gettempdir()) / "chat-bench-peers"
SOCKETIO_SPEC = "socket.io@~4.8.0"
# socket.io's own adapter for several processes, and the Redis client it is documented with.
SOCKETIO_REDIS_SPECS = ("@socket.io/redis-adapter@~8.3.0", "redis@~4.7.0")
PYTHON_SOCKETIO_SPECS = ("python-socketio>=5.11,<6", "aiohttp>=3.9,<4")
INSTALL_TIMEOUT_SECS = 600

PEERS = ("socketio", "python-socketio")
PEER_TITLES = {"socketio": "Node.js socket.io", "python-socketio": "python-socketio (aiohttp)"}


def _node_folder() -> Path:
    return CACHE / "node-socketio-4.8"


def _python_folder() -> Path:
    return CACHE / "python-socketio-venv"


def npm_install(folder: Path, specs: tuple[str, ...], package: str) -> str:
    """`specs` from the npm registry into `folder` unless `package` is there; its version."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise RuntimeError(f"{package} needs Node.js and npm")
    manifest = folder / "node_modules" / package / "package.json"
    if not manifest.exists():
        folder.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            ["npm", "install", "--prefix", str(folder), "--no-audit", "--no-fund", *specs],
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_SECS,
        )
        if result.returncode != 0 or not manifest.exists():
            raise RuntimeError(f"installing {' '.join(specs)} failed:\n{result.stdout}\n{result.stderr}")
    return str(json.loads(manifest.read_text())["version"])


def install_socketio() -> str:
    """socket.io 4.8 from the npm registry into the cache; returns its version."""
    return npm_install(_node_folder(), (SOCKETIO_SPEC,), "socket.io")


def install_socketio_redis() -> str:
    """socket.io's Redis adapter (and the `redis` client) beside socket.io; the adapter's version."""
    install_socketio()
    return npm_install(_node_folder(), (SOCKETIO_SPEC, *SOCKETIO_REDIS_SPECS), "@socket.io/redis-adapter")


def install_python_socketio() -> str:
    """python-socketio and aiohttp from PyPI into a throwaway virtualenv; returns the version."""
    folder = _python_folder()
    python = folder / "bin" / "python"
    if not python.exists() or _python_socketio_version(python) is None:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(folder)], check=True)
        result = subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                *PYTHON_SOCKETIO_SPECS,
            ],
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_SECS,
        )
        if result.returncode != 0:
            raise RuntimeError(f"installing python-socketio failed:\n{result.stdout}\n{result.stderr}")
    version = _python_socketio_version(python)
    if version is None:
        raise RuntimeError("python-socketio did not install")
    return version


def _python_socketio_version(python: Path) -> str | None:
    result = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('python-socketio'))"],
        capture_output=True,
        text=True,
    )
    return result.stdout.strip() if result.returncode == 0 else None


def install(kind: str) -> str:
    return install_socketio() if kind == "socketio" else install_python_socketio()


class PeerServer:
    """One peer server process on a free port."""

    def __init__(self, kind: str, log: Path, extra_env: dict[str, str] | None = None) -> None:
        if kind not in PEERS:
            raise ValueError(f"unknown peer {kind!r}; choose from {', '.join(PEERS)}")
        self.kind = kind
        self.extra_env = extra_env or {}
        self.port = free_port()
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> PeerServer:
        if self.kind == "socketio":
            argv = ["node", str(SCRIPTS / "socketio_server.js"), str(self.port)]
            env = {"NODE_PATH": str(_node_folder() / "node_modules"), "NODE_ENV": "production"}
        else:
            argv = [
                str(_python_folder() / "bin" / "python"),
                str(SCRIPTS / "python_socketio_server.py"),
                str(self.port),
            ]
            env = {}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                argv,
                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env, **self.extra_env},
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=raise_fd_limit,
            )
        wait_for_port(self.port, self.process)
        return self

    def sample(self) -> ProcessSample:
        return sample_process(self.pid)

    def stop(self) -> None:
        stop_process(self.process, grace=10)


def node_version() -> str:
    result = subprocess.run(["node", "--version"], capture_output=True, text=True)
    return result.stdout.strip()
