"""The servers under test: this project's daphne on a throwaway database, and /proc readings.

The database is migrated once per benchmark run (a template file) and copied for every
server started, so each measurement begins on a fresh, identical database.
"""

from __future__ import annotations

import os
import random
import resource
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
SECRET_KEY = "benchmark-only-secret-key-0123456789-abcdefghijklmnop"
WRITER = "bench"
PASSWORD = "bench-password-123"
MAIN_ROOM = "bench"
SMALL_ROOM_PREFIX = "small-"
# The per-user flood limit (docs/PROTOCOL.md, rate_limited), raised through its documented
# setting: one writer posts thousands of messages a second here.
MESSAGE_RATE = "1000000/1"
START_TIMEOUT_SECS = 60


# Ports for servers started here (and by the tests): below Linux's ephemeral range (32768 and
# up), which the kernel also hands to outgoing connections, so none can take a port between our
# check and the server's bind; each test worker (pytest-xdist) in a slice of its own.
PORTS_FIRST = 10_000
PORTS_PER_SLICE = 2_500
PORT_SLICES = 8


_next_port: list[int] = []  # this process's next candidate, once the first call has picked it


def free_port() -> int:
    """A port nothing listens on now, from this process's slice. Handed out in turn from a random
    start, so one process never gets the same port twice (a random pick per call did: two
    Pushpins' seven ports each collided once)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    first = PORTS_FIRST + (int(worker) if worker.isdigit() else 0) % PORT_SLICES * PORTS_PER_SLICE
    if not _next_port:
        _next_port.append(random.randrange(PORTS_PER_SLICE))
    for _ in range(PORTS_PER_SLICE):
        offset = _next_port[0]
        _next_port[0] = (offset + 1) % PORTS_PER_SLICE
        port = first + offset
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port between {first} and {first + PORTS_PER_SLICE - 1}")


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = START_TIMEOUT_SECS) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early with code {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listened on port {port} within {timeout:.0f} s")


def raise_fd_limit() -> None:
    """Soft limit on open files up to the hard limit (run in the server's child, pre-exec)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


@dataclass(frozen=True)
class ProcessSample:
    cpu_s: float  # user + system CPU seconds since the process started
    rss_bytes: int
    fds: int
    threads: int


def sample_process(pid: int) -> ProcessSample:
    """CPU, resident memory, open files and threads of a process, from /proc."""
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(stat[11]) + int(stat[12])) / ticks
    rss = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    return ProcessSample(cpu, rss, fds, int(stat[17]))


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {args[0]} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def base_env(database: Path) -> dict[str, str]:
    """Production settings on a given SQLite file, in-memory layer, flood limit raised."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "REDIS_PREFIX"}}
    env.update(
        DATABASE_URL=f"sqlite:///{database}",
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="0",  # DEBUG records every query: never benchmark with it
        SECRET_KEY=SECRET_KEY,
        ALLOWED_HOSTS="127.0.0.1",
        LOG_LEVEL="WARNING",
        CHAT_MESSAGE_RATE=MESSAGE_RATE,
        CHAT_MESSAGE_RATE_IP=MESSAGE_RATE,
        CHAT_CONNECT_RATE_IP=MESSAGE_RATE,  # thousands of viewers connect from one address here
        CHAT_HELD_PER_IP="1000000",  # ... and stay connected
        CHAT_CONNECTIONS_MAX="1000000",  # the idle scenario holds as many as the descriptors allow
        CHAT_HTTP_WRITE_RATE_IP=MESSAGE_RATE,
        CHAT_DUPLICATE_SECONDS="0",
        # Production settings over plain HTTP on 127.0.0.1: no redirect to HTTPS, and cookies
        # a client sends over HTTP.
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        PYTHONUNBUFFERED="1",
        # DEBUG=0 pages name the files collectstatic wrote (BenchDatabase.build), beside the database.
        STATIC_ROOT=str(database.parent / "staticfiles"),
    )
    return env


class BenchDatabase:
    """A migrated template database with the writer's account and the benchmark's rooms."""

    def __init__(self, folder: Path, small_rooms: int) -> None:
        self.folder = folder
        self.template = folder / "template.sqlite3"
        self.small_rooms = small_rooms
        self._copies = 0

    def build(self) -> None:
        env = base_env(self.template)
        # The static files first: with DEBUG=0 the system checks of any later command resolve
        # the URL configuration, which names hashed static files.
        manage(env, "collectstatic", "--noinput", "-v0")
        manage(env, "migrate", "--noinput")
        script = (
            "from django.contrib.auth.models import User\n"
            "from chat.models import Room\n"
            f"User.objects.create_user({WRITER!r}, password={PASSWORD!r})\n"
            f"Room.objects.create(slug={MAIN_ROOM!r}, title='Benchmark')\n"
            "Room.objects.bulk_create(\n"
            f"    Room(slug=f'{SMALL_ROOM_PREFIX}{{i}}', title=f'Small room {{i}}')\n"
            f"    for i in range({self.small_rooms})\n"
            ")\n"
        )
        manage(env, "shell", "-c", script)

    def fresh_copy(self) -> Path:
        """A new database file, identical to the template."""
        self._copies += 1
        copy = self.folder / f"run-{self._copies}.sqlite3"
        shutil.copyfile(self.template, copy)
        return copy


def stop_process(process: subprocess.Popen[bytes] | None, grace: float = 15) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `grace` seconds."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def small_room_slug(index: int) -> str:
    return f"{SMALL_ROOM_PREFIX}{index}"


class ChatServer:
    """`python -m config.serve` (the entry point `make run` uses) on a free port."""

    def __init__(self, database: Path, log: Path, extra_env: dict[str, str] | None = None) -> None:
        self.env = {**base_env(database), **(extra_env or {})}
        self.port = free_port()
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> ChatServer:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "config.serve", "--port", str(self.port)],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=raise_fd_limit,
            )
        wait_for_port(self.port, self.process)
        # The first request imports the views and opens the database: do it before measuring.
        httpx.get(self.base_url + "/accounts/login/", timeout=30).raise_for_status()
        return self

    def login(self, username: str = WRITER, password: str = PASSWORD) -> str:
        """A `Cookie` header value for a signed-in session."""
        with httpx.Client(base_url=self.base_url, timeout=30) as client:
            client.get("/accounts/login/")
            answer = client.post(
                "/accounts/login/",
                data={
                    "username": username,
                    "password": password,
                    "csrfmiddlewaretoken": client.cookies["csrftoken"],
                },
                headers={"Referer": self.base_url + "/accounts/login/"},
            )
            if answer.status_code != 302:
                raise RuntimeError(f"login failed: {answer.status_code}")
            return f"sessionid={client.cookies['sessionid']}"

    def sample(self) -> ProcessSample:
        return sample_process(self.pid)

    def stop(self) -> None:
        stop_process(self.process)

    def log_problems(self) -> list[str]:
        """Warning, error and traceback lines the server logged (an anomaly to report)."""
        if not self.log.exists():
            return []
        lines = self.log.read_text(errors="replace").splitlines()
        return [
            line
            for line in lines
            if any(word in line for word in ("WARNING", "ERROR", "Traceback", "CRITICAL"))
        ]
