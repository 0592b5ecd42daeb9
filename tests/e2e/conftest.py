"""Real daphne processes on free ports, over a throwaway database, for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar, Self
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from playwright.sync_api import Browser, sync_playwright

from ..conftest import unavailable
from .browsing import CHROMIUM, CHROMIUM_ARGS, Contexts

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct-horse-battery-staple"
USERS = ("alice", "bob", "carol", *(f"writer{n}" for n in range(10)))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(
    process: subprocess.Popen[bytes],
    url: str,
    log: Callable[[], str],
    verify: ssl.SSLContext | bool = True,
    timeout: float = 30,
    headers: dict[str, str] | None = None,
) -> None:
    """Until `url` answers 200; `log()` explains a process that exits or never answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited early:\n{log()}")
        try:
            if httpx.get(url, timeout=2, verify=verify, headers=headers).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up:\n{log()}")


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


class DaphneServer:
    """`python -m config.serve` (the same entry point `make run` uses) on a free port."""

    args: tuple[str, ...] = ()  # more arguments for config.serve
    ready_path = "/"  # answers 200 once the server is up
    ready_headers: ClassVar[dict[str, str]] = {}

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.port = free_port()
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self) -> Self:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "config.serve", "--port", str(self.port), *self.args],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_until_up(self.process, self.base_url + self.ready_path, self.log, headers=self.ready_headers)
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def is_postgres(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://"))


@contextmanager
def throwaway_database(tmp: Path) -> Iterator[str]:
    """The servers' database: a fresh SQLite file, or, when the run's DATABASE_URL is PostgreSQL
    (`make test`'s second pass), a fresh database on that server, dropped afterwards."""
    url = os.environ.get("DATABASE_URL", "")
    if not is_postgres(url):
        yield f"sqlite:///{tmp / 'db.sqlite3'}"
        return
    import psycopg

    def on(database: str) -> str:
        return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))

    name = f"chat_e2e_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(on("postgres"), autocommit=True) as admin:  # the URL's own may not exist
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield on(name)
    finally:
        with psycopg.connect(on("postgres"), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def e2e_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Environment for server processes: a migrated database (SQLite, or PostgreSQL when the
    run's DATABASE_URL is) with room `demo` and users."""
    folder = tmp_path_factory.mktemp("e2e")
    with throwaway_database(folder) as database_url:
        yield _server_env(folder, database_url)


def _server_env(folder: Path, database_url: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="1",
        PYTHONUNBUFFERED="1",
        # Tests post fast from one address; flood tests pass their own limits.
        CHAT_MESSAGE_RATE="100000/1",
        CHAT_MESSAGE_RATE_IP="100000/1",
        CHAT_CONNECT_RATE_IP="100000/1",
        CHAT_HELD_PER_IP="100000",  # a thousand clients from one address (tests/e2e/test_faults.py)
        CHAT_HTTP_WRITE_RATE_IP="100000/1",
        CHAT_LOGIN_FAILURE_RATE="100000/1",
        CHAT_LOGIN_FAILURE_RATE_IP="100000/1",
        CHAT_DUPLICATE_SECONDS="0",
        # Servers here answer plain HTTP on 127.0.0.1, also those a test starts with DEBUG=0
        # (tests/e2e/test_security.py checks the production default, which redirects).
        SECURE_SSL_REDIRECT="0",
    )
    manage(env, "migrate", "--noinput")
    manage(env, "createroom", "demo", "--title", "Demo room")
    script = (
        "from django.contrib.auth import get_user_model\n"
        "User = get_user_model()\n"
        f"for name in {USERS!r}:\n"
        f"    User.objects.create_user(name, password={PASSWORD!r})\n"
    )
    manage(env, "shell", "-c", script)
    env["E2E_TMP"] = str(folder)
    return env


@pytest.fixture
def start_server(e2e_env: dict[str, str], tmp_path: Path) -> Iterator[object]:
    """Factory: start_server(**extra_env) -> a running DaphneServer, stopped after the test."""
    servers: list[DaphneServer] = []

    def start(**extra: str) -> DaphneServer:
        env = {**e2e_env, **extra}
        server = DaphneServer(env, tmp_path / f"daphne-{len(servers)}.log").start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def server(start_server) -> DaphneServer:  # type: ignore[no-untyped-def]
    return start_server()  # type: ignore[no-any-return]


def login(base_url: str, username: str, password: str = PASSWORD) -> dict[str, str]:
    """Log in through /accounts/login/ like a browser; returns the cookies (session, csrftoken)."""
    with httpx.Client(base_url=base_url, timeout=10) as client:
        page = client.get("/accounts/login/")
        page.raise_for_status()
        token = client.cookies["csrftoken"]
        answer = client.post(
            "/accounts/login/",
            data={"username": username, "password": password, "csrfmiddlewaretoken": token},
            headers={"Referer": base_url + "/accounts/login/"},
        )
        if answer.status_code != 302:
            raise AssertionError(f"login failed for {username}: {answer.status_code}")
        return dict(client.cookies)


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{key}={value}" for key, value in cookies.items())


def unique_prefix() -> str:
    return f"test-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium per test module (Debian's package, see browsing.py)."""
    if not CHROMIUM.exists():
        unavailable(f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def contexts(browser: Browser) -> Iterator[Contexts]:
    """The browser contexts a test makes, closed after it; it fails on any uncaught page error."""
    made = Contexts()
    yield made
    for context in made:
        context.close()
    assert not made.page_errors, f"uncaught errors in the page: {made.page_errors}"
