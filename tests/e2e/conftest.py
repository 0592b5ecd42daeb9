"""Real daphne processes on free ports, over a throwaway database, for end-to-end tests."""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Self
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, sync_playwright
from websockets.sync.client import connect

from bench.server import free_port as bench_free_port

from ..conftest import unavailable
from .browsing import CHROMIUM, CHROMIUM_ARGS, Contexts

ROOT = Path(__file__).resolve().parents[2]
DEMO_ROOM = "demo"  # in every server's database (e2e_env)
PASSWORD = "correct-horse-battery-staple"
USERS = ("alice", "bob", "carol", *(f"writer{n}" for n in range(10)))


def free_port() -> int:
    """A port for a server the test starts (bench/server.py: outside the kernel's range for
    outgoing connections, a slice per test worker)."""
    return bench_free_port()


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
        try:
            wait_until_up(self.process, self.base_url + self.ready_path, self.log, headers=self.ready_headers)
        except BaseException:
            self.stop()  # never leave a server running behind a failed start
            raise
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
def e2e_env(tmp_path_factory: pytest.TempPathFactory, collected_static: Path) -> Iterator[dict[str, str]]:
    """Environment for server processes: a migrated database (SQLite, or PostgreSQL when the
    run's DATABASE_URL is) with room `demo` and users; the run's collected static files."""
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
        DANMAKU_EXPORT_RATE_IP="100000/1",
        DANMAKU_IMPORT_QUOTA_USER="100000000/1",
        DANMAKU_IMPORT_QUOTA_ROOM="100000000/1",
        # Servers here answer plain HTTP on 127.0.0.1, also those a test starts with DEBUG=0
        # (tests/e2e/test_security.py checks the production default, which redirects).
        SECURE_SSL_REDIRECT="0",
    )
    manage(env, "migrate", "--noinput")
    manage(env, "createroom", DEMO_ROOM, "--title", "Demo room")
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


@contextmanager
def running_server(env: dict[str, str], log_dir: Path) -> Iterator[DaphneServer]:
    """A server for a module's tests (its own settings or rooms), stopped after them."""
    server = DaphneServer(env, log_dir / "daphne.log").start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def restarted(server: DaphneServer, tmp_path: Path, **env: str) -> Iterator[DaphneServer]:
    """A new server on the stopped one's port and database (the fixture picks a free port)."""
    replacement = DaphneServer({**server.env, **env}, tmp_path / "daphne-restarted.log")
    replacement.port = server.port
    try:
        yield replacement.start()
    finally:
        replacement.stop()


def create_rooms(env: dict[str, str], rooms: Mapping[str, Sequence[str]], staff: Sequence[str] = ()) -> None:
    """Rooms (slug -> `createroom`'s options) and site staff users, in one Django process."""
    lines = [
        "from django.contrib.auth import get_user_model",
        "from django.core.management import call_command",
    ]
    lines += [
        f"get_user_model().objects.create_user({name!r}, password={PASSWORD!r}, is_staff=True)"
        for name in staff
    ]
    lines += [f"call_command('createroom', {slug!r}, *{list(options)!r})" for slug, options in rooms.items()]
    manage(env, "shell", "-c", "\n".join(lines))


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


class Sessions:
    """The cookies (session and CSRF token) of users signed in on one server, each signing in
    once: password hashing makes a login slow."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.signed_in: dict[str, dict[str, str]] = {}

    def __call__(self, user: str) -> dict[str, str]:
        if user not in self.signed_in:
            self.signed_in[user] = login(self.base_url, user)
        return self.signed_in[user]


class SignedIn:
    """HTTP requests as a signed-in user, the way the pages make them (session, CSRF token,
    Origin), to paths under `prefix` (a room's, say)."""

    def __init__(self, base_url: str, cookies: Mapping[str, str], prefix: str = "/") -> None:
        self.base = base_url + prefix
        self.headers = {
            "Cookie": cookie_header(cookies),
            "X-CSRFToken": cookies["csrftoken"],
            "Origin": base_url,
            "Referer": base_url + "/",
        }

    def get(self, path: str, **params: Any) -> Any:
        answer = httpx.get(self.base + path, params=params, headers=self.headers, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return httpx.post(self.base + path, json=body, headers=self.headers, timeout=10)


def post_frames(
    server: DaphneServer,
    slug: str,
    cookies: Mapping[str, str],
    frames: Sequence[dict[str, Any]],
    interval: float = 0,
) -> list[dict[str, Any]]:
    """Send client frames over one WebSocket with a user's `cookies`, `interval` s apart (each
    gets a nonce); the ack or error answering each, in order."""
    headers = {"Cookie": cookie_header(cookies), "Origin": server.base_url}
    with connect(f"{server.ws_url}/ws/rooms/{slug}/", additional_headers=headers) as socket:
        assert json.loads(socket.recv(timeout=10))["type"] == "hello"
        for nonce, frame in enumerate(frames):
            socket.send(json.dumps({**frame, "nonce": nonce}))
            if interval:
                time.sleep(interval)  # a steady stream is the scenario of some tests
        answers: dict[int, dict[str, Any]] = {}
        while len(answers) < len(frames):
            answer = json.loads(socket.recv(timeout=10))
            if answer.get("type") in {"ack", "error"}:
                answers[answer["nonce"]] = answer
    return [answers[nonce] for nonce in range(len(frames))]


def post_messages(
    server: DaphneServer, slug: str, cookies: Mapping[str, str], texts: Sequence[str]
) -> list[dict[str, Any]]:
    """Post chat messages as a user over one WebSocket; their acks (a refusal fails the test)."""
    answers = post_frames(server, slug, cookies, [{"type": "message", "text": text} for text in texts])
    assert all(answer["type"] == "ack" for answer in answers), answers
    return answers


def post_as(
    server: DaphneServer, user: str, texts: Sequence[str], slug: str = DEMO_ROOM
) -> list[dict[str, Any]]:
    """Post chat messages as `user`, signing in first; their acks."""
    return post_messages(server, slug, login(server.base_url, user), texts)


@dataclass
class Site:
    """A server of a test module's own, the rooms made for it (role -> slug), the browser
    viewport its pages are tested at, and its users' cookies (each signs in once)."""

    server: DaphneServer
    rooms: dict[str, str]
    viewport: tuple[int, int] | None = None
    sessions: Sessions = field(init=False)

    def __post_init__(self) -> None:
        self.sessions = Sessions(self.server.base_url)

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def browse(
        self, contexts: Contexts, user: str | None = None, viewport: tuple[int, int] | None = None
    ) -> BrowserContext:
        """A fresh browser profile (own cookies and storage), signed in as `user` if given."""
        cookies = self.sessions(user) if user is not None else None
        return contexts.new(self.base_url, cookies=cookies, viewport=viewport or self.viewport)

    def api(self, user: str, slug: str | None = None) -> SignedIn:
        """HTTP requests as `user`, to paths under the room `slug` if given."""
        return SignedIn(self.base_url, self.sessions(user), f"/rooms/{slug}/" if slug else "/")

    def post(
        self, slug: str, user: str, frames: Sequence[dict[str, Any]], interval: float = 0
    ) -> list[dict[str, Any]]:
        """Client frames sent as `user` over one WebSocket; the answer to each (post_frames)."""
        return post_frames(self.server, slug, self.sessions(user), frames, interval)

    def post_messages(self, slug: str, user: str, texts: Sequence[str]) -> list[dict[str, Any]]:
        return post_messages(self.server, slug, self.sessions(user), texts)


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
    """The browser contexts a test makes (contexts.new), closed after it; it fails on any
    uncaught page error."""
    made = Contexts(browser)
    yield made
    for context in made:
        context.close()
    assert not made.page_errors, f"uncaught errors in the page: {made.page_errors}"
