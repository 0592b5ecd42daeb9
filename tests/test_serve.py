"""config/serve.py: secrets kept out of daphne's access log."""

from __future__ import annotations

import io

import pytest

from config.serve import redacted_path


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/rooms/a/overlay?key=s3cret", "/rooms/a/overlay?key=[redacted]"),
        (
            "/rooms/a/events?after=4&key=s3cret&max_rate=5",
            "/rooms/a/events?after=4&key=[redacted]&max_rate=5",
        ),
        ("/rooms/a/poll?key=one&key=two", "/rooms/a/poll?key=[redacted]&key=[redacted]"),
        ("/rooms/a/overlay?%6Bey=s3cret", "/rooms/a/overlay?%6Bey=[redacted]"),
        ("/rooms/a/overlay?key", "/rooms/a/overlay?key=[redacted]"),
        ("/rooms/a/overlay?monkey=banana&keys=2", "/rooms/a/overlay?monkey=banana&keys=2"),
        ("/rooms/a/", "/rooms/a/"),
        ("/rooms/a/events?ticket=abc:def&after=1", "/rooms/a/events?ticket=[redacted]&after=1"),
        ("/ws/rooms/a/?tick%65t=abc", "/ws/rooms/a/?tick%65t=[redacted]"),
    ],
)
def test_secret_query_parameters_are_redacted(path: str, logged: str) -> None:
    assert redacted_path(path) == logged


def test_the_access_log_never_shows_the_overlay_key() -> None:
    from daphne.access import AccessLogGenerator

    from config.serve import _command_line

    stream = io.StringIO()
    server = _command_line().server_class(
        application=None, endpoints=["tcp:port=0"], action_logger=AccessLogGenerator(stream)
    )
    details = {"path": "/rooms/a/overlay?key=s3cret&speed=2", "client": "127.0.0.1:1", "method": "GET"}
    server.log_action("http", "complete", {**details, "status": 200, "size": 10})
    server.log_action("websocket", "connecting", {"path": "/ws/rooms/a/?key=s3cret", "client": "127.0.0.1:1"})
    logged = stream.getvalue()
    assert "s3cret" not in logged
    assert '"GET /rooms/a/overlay?key=[redacted]&speed=2" 200 10' in logged
    assert "WSCONNECTING /ws/rooms/a/?key=[redacted]" in logged
