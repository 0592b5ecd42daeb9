"""Shared fixtures: real services (Redis, PostgreSQL) fail under CI rather than skip."""

from __future__ import annotations

import fcntl
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import pytest

REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")


def service_reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        default_port = 5432 if parts.scheme.startswith("postgres") else 6379
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=2):
            return True
    except OSError:
        return False


def unavailable(message: str) -> NoReturn:
    """Something a test needs is missing: skip locally, fail under CI (which installs it all)."""
    if os.environ.get("CI"):
        pytest.fail(message + " (CI requires it)")
    pytest.skip(message)


def require_service(name: str, url: str) -> None:
    """Skip locally, fail under CI, when a real server the test needs is not running."""
    if not service_reachable(url):
        unavailable(f"{name} is not reachable at {url}")


def pytest_sessionstart(session: pytest.Session) -> None:
    """`DATABASE_URL=postgres://...` runs need that server: stop early with a clear reason."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")) and not service_reachable(url):
        message = f"PostgreSQL is not reachable at {url}"
        if os.environ.get("CI"):
            pytest.exit(message + " (CI requires it)", returncode=1)
        pytest.exit(message + "; skipping the PostgreSQL run", returncode=0)
    if not hasattr(session.config, "workerinput"):
        # Here, not in the first test's setup, where the test's own timeout would count it: on a
        # loaded machine `collectstatic` has taken over 25 s (the workers share the result).
        collect_static(session.config._tmp_path_factory.getbasetemp())  # type: ignore[attr-defined]
        # The compiled translations, as `make test` builds them (a run of pytest alone too).
        subprocess.run(
            [sys.executable, "manage.py", "compilemessages", "--ignore=.venv", "-v0"],
            cwd=ROOT,
            check=True,
            timeout=120,
        )


def collect_static(shared: Path) -> Path:
    """`collectstatic` into `shared`/staticfiles, once for every process of the run."""
    root = shared / "staticfiles"
    with (shared / "staticfiles.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "staticfiles.json").exists():
            subprocess.run(
                [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
                cwd=ROOT,
                env={**os.environ, "STATIC_ROOT": str(root)},
                check=True,
                timeout=300,
            )
    return root


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """pytest-django's test database, and before it is dropped, PostgreSQL's other sessions on
    it ended: worker threads of the async tests keep their connections, and DROP DATABASE
    refuses while any is open (seen with `pytest -n 2`)."""
    yield
    from django.db import connection

    if connection.vendor == "postgresql":
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session", autouse=True)
def collected_static(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """`collectstatic` once per run (the session's start runs it, the test workers share it), into
    the run's temporary directory: pages name the files by their hashed names, as in production,
    and servers started by the tests (STATIC_ROOT in their environment) serve them."""
    # This run's directory: under xdist each worker has its own below the run's, which they share.
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent
    root = collect_static(shared)  # done already at the session's start (pytest_sessionstart)
    from django.test.utils import override_settings

    saved = os.environ.get("STATIC_ROOT")
    os.environ["STATIC_ROOT"] = str(root)
    with override_settings(STATIC_ROOT=root):
        yield root
    if saved is None:
        os.environ.pop("STATIC_ROOT", None)
    else:
        os.environ["STATIC_ROOT"] = saved


@pytest.fixture(autouse=True)
def _relaxed_message_rate(settings: Any) -> None:
    """Tests post hundreds of messages as one user from one address; flood tests set their own."""
    settings.CHAT_MESSAGE_RATE = "100000/1"
    settings.CHAT_MESSAGE_RATE_IP = "100000/1"
    settings.CHAT_CONNECT_RATE_IP = "100000/1"
    settings.CHAT_HTTP_WRITE_RATE_IP = "100000/1"
    settings.CHAT_DUPLICATE_SECONDS = 0
    from django.core.cache import cache

    from chat.transports.direct_poll import ReadableCheck
    from chat.transports.http import forget_rooms
    from chat.transports.longpoll import forget_answers

    cache.clear()
    forget_rooms()  # each test's rooms are new, often at the same slug
    forget_answers()  # ... and the same primary keys
    ReadableCheck.forget()


@pytest.fixture
def redis_url() -> str:
    require_service("Redis", REDIS_TEST_URL)
    return REDIS_TEST_URL


@pytest.fixture(autouse=True)
def default_language_after_each_test() -> Iterator[None]:
    """A request with `Accept-Language: ja` leaves Japanese active in its thread, and an error's
    message is written in the language active when it is shown: the next test starts in the
    default language (English) again."""
    yield
    from django.utils import translation

    translation.deactivate()
