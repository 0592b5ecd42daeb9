"""Static files as daphne serves them itself (SERVE_STATIC=1, config/asgi.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.chat.asgi_clients import SseStream

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(("path", "status"), [("/static/js/pages/room.js", 200), ("/static/none.js", 404)])
async def test_static_files_are_not_sniffed(path: str, status: int) -> None:
    answer = await SseStream(path).open()  # any GET through the site's ASGI application
    while True:
        message = await answer._next_output(10)
        if not message.get("more_body"):
            break
    await answer.comm.wait(timeout=5)
    assert answer.status == status
    headers = {name.lower(): value for name, value in answer.headers.items()}
    assert headers[b"x-content-type-options"] == b"nosniff"


class StalledClient:
    """daphne's writer for a client that reads nothing: everything sent stays unsent."""

    def __init__(self) -> None:
        self.aborted = False

    def buffered(self) -> int:
        return 10 * 1024 * 1024

    def abort(self) -> None:
        self.aborted = True


async def test_a_client_that_stops_reading_is_dropped_with_little_sent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chat.extensions import HTTP_WRITER
    from config import static_files
    from config.asgi import django_asgi_app

    monkeypatch.setattr(static_files, "CHUNK_BYTES", 1024)
    monkeypatch.setattr(static_files, "DRAIN_TIMEOUT_SECS", 0.05)
    app = static_files.StaticFiles(django_asgi_app)
    client = StalledClient()
    sent: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    async def receive() -> dict[str, object]:
        raise AssertionError("a static file reads no body")

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/static/css/site.css",
        "headers": [(b"accept-encoding", b"identity")],
        "extensions": {HTTP_WRITER: client},
    }
    await app(scope, receive, send)  # type: ignore[arg-type]
    assert sent[0]["status"] == 200
    assert client.aborted
    assert [len(message["body"]) for message in sent[1:]] == [1024]  # type: ignore[arg-type]


async def test_a_range_is_answered_206() -> None:
    from config import static_files
    from config.asgi import django_asgi_app

    app = static_files.StaticFiles(django_asgi_app)
    sent: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/static/css/site.css",
        "headers": [(b"range", b"bytes=0-99"), (b"accept-encoding", b"identity")],
    }
    await app(scope, None, send)  # type: ignore[arg-type]
    assert sent[0]["status"] == 206
    assert (
        b"".join(message["body"] for message in sent[1:])
        == (  # type: ignore[misc]
            (ROOT / "static" / "css" / "site.css").read_bytes()[:100]
        )
    )
