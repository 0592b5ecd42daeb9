"""Pushpin (Debian's package) and zurl in front of a benchmark's daphne, with deploy/'s files.

The same configuration tests/e2e/test_pushpin.py checks: deploy/pushpin.conf, pushpin-routes
and zurl.conf with their ports and directories replaced. `sample()` adds up Pushpin's own
processes (condure, pushpin-proxy, pushpin-handler, started by its runner) and zurl.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from .server import ROOT, ProcessSample, free_port, raise_fd_limit, sample_process, stop_process

PUSHPIN = Path("/usr/bin/pushpin")  # apt-get install pushpin (brings zurl)
ZURL = Path("/usr/bin/zurl")
DEPLOY = ROOT / "deploy"


def _render(template: Path, replacements: dict[str, str]) -> str:
    text = template.read_text()
    for old, new in replacements.items():
        if old not in text:
            raise RuntimeError(f"{template.name} no longer contains {old!r}")
        text = text.replace(old, new)
    return text


class PushpinServer:
    """zurl and Pushpin on free ports, routing to the daphne on `backend_port`."""

    def __init__(self, backend_port: int, log: Path) -> None:
        if not (PUSHPIN.exists() and ZURL.exists()):
            raise RuntimeError("Pushpin is not installed (apt-get install pushpin)")
        self.folder = Path(tempfile.mkdtemp(prefix="bench-pushpin-"))  # unix sockets: short paths
        self.log = log
        self.port = free_port()
        self.publish_port = free_port()
        self.key = secrets.token_urlsafe(48)
        self.processes: list[subprocess.Popen[bytes]] = []
        run, logs = self.folder / "run", self.folder / "log"
        run.mkdir()
        logs.mkdir()
        conf = _render(
            DEPLOY / "pushpin.conf",
            {
                "/var/run/pushpin": str(run),
                "/var/run/zurl": str(run),
                "/var/log/pushpin": str(logs),
                "http_port=7999": f"http_port={self.port}",
                "127.0.0.1:5560": f"127.0.0.1:{free_port()}",
                "127.0.0.1:5561": f"127.0.0.1:{self.publish_port}",
                "127.0.0.1:5562": f"127.0.0.1:{free_port()}",
                "127.0.0.1:5563": f"127.0.0.1:{free_port()}",
                "push_in_http_port=5561": f"push_in_http_port={self.publish_port}",
                "prometheus_port=9170": f"prometheus_port={free_port()}",
                "sig_key=PLACEHOLDER-GRIP-KEY": f"sig_key={self.key}",
                "x_forwarded_for=append": "x_forwarded_for=truncate:0,append",
                "log_level=2": "log_level=1",  # no line per request and publish while measuring
            },
        )
        (self.folder / "pushpin.conf").write_text(conf)
        routes = _render(
            DEPLOY / "pushpin-routes", {"127.0.0.1:8001 127.0.0.1:8002": f"127.0.0.1:{backend_port}"}
        )
        (self.folder / "routes").write_text(routes)
        (self.folder / "zurl.conf").write_text(_render(DEPLOY / "zurl.conf", {"/var/run/zurl": str(run)}))

    @property
    def grip_env(self) -> dict[str, str]:
        """What the daphne behind it needs."""
        return {
            "GRIP_URL": f"http://127.0.0.1:{self.publish_port}",
            "GRIP_KEY": self.key,
            "GRIP_STATS": f"ipc://{self.folder / 'run' / 'pushpin-stats'}",
        }

    def start(self) -> PushpinServer:
        with self.log.open("ab") as log:
            for command in (
                [str(ZURL), f"--config={self.folder / 'zurl.conf'}"],
                [str(PUSHPIN), f"--config={self.folder / 'pushpin.conf'}"],
            ):
                self.processes.append(
                    subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, preexec_fn=raise_fd_limit)
                )
        deadline = 30
        for _ in range(deadline * 10):
            try:
                if httpx.get(f"http://127.0.0.1:{self.publish_port}/", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            for process in self.processes:
                if process.poll() is not None:
                    raise RuntimeError(f"{process.args!r} exited; see {self.log}")
            time.sleep(0.1)
        raise RuntimeError(f"Pushpin did not start within {deadline} s; see {self.log}")

    def pids(self) -> list[int]:
        """zurl, Pushpin's runner and every process the runner started."""
        pids: list[int] = []
        for process in self.processes:
            pids.append(process.pid)
            children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
            if children.exists():
                pids += [int(pid) for pid in children.read_text().split()]
        return pids

    def sample(self) -> ProcessSample:
        samples = []
        for pid in self.pids():
            try:
                samples.append(sample_process(pid))
            except FileNotFoundError:
                continue
        return ProcessSample(
            sum(s.cpu_s for s in samples),
            sum(s.rss_bytes for s in samples),
            sum(s.fds for s in samples),
            sum(s.threads for s in samples),
        )

    def stop(self) -> None:
        for process in reversed(self.processes):
            stop_process(process)
        shutil.rmtree(self.folder, ignore_errors=True)

    def log_problems(self) -> list[str]:
        lines = []
        for path in sorted((self.folder / "log").glob("*.log")) if self.folder.exists() else []:
            lines += [line for line in path.read_text(errors="replace").splitlines() if "[ERR]" in line]
        return lines


def pushpin_available() -> bool:
    return PUSHPIN.exists() and ZURL.exists() and os.access(PUSHPIN, os.X_OK)
