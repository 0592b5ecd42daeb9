"""Debian's coturn on free ports of 127.0.0.1, as the call tests and the call benchmark run it."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from .server import free_port

TURNSERVER = Path("/usr/bin/turnserver")


class TurnServer:
    """Debian's coturn on free ports of 127.0.0.1, with the REST API's shared secret: the
    TURN credentials the app issues are the only ones it takes."""

    def __init__(self, folder: Path, secret: str) -> None:
        self.port = free_port()
        low = 40000 + (self.port % 200) * 100  # a relay range of its own for each run
        self.log_path = folder / "turnserver.log"
        self.command = [
            str(TURNSERVER),
            "-n",  # no configuration file: everything is here
            "--listening-ip=127.0.0.1",
            "--relay-ip=127.0.0.1",
            f"--listening-port={self.port}",
            f"--min-port={low}",
            f"--max-port={low + 99}",
            "--use-auth-secret",
            f"--static-auth-secret={secret}",
            "--realm=chat.test",
            "--no-tls",
            "--no-dtls",
            "--no-cli",
            "--fingerprint",
            # Both browsers are on this machine: their relayed addresses are loopback ones,
            # which coturn refuses as peers unless told otherwise.
            "--allow-loopback-peers",
            f"--pidfile={folder / 'turnserver.pid'}",
            f"--db={folder / 'turndb'}",
            f"--log-file={self.log_path}",
            "--simple-log",
            "--verbose",
        ]
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"turn:127.0.0.1:{self.port}?transport=udp"

    def start(self) -> TurnServer:
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while "listener opened on" not in self.log() and "Total General servers" not in self.log():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"turnserver did not start:\n{self.log()[-3000:]}")
            time.sleep(0.1)
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
