"""Static files as daphne serves them itself (SERVE_STATIC=1, config/asgi.py)."""

from __future__ import annotations

import pytest

from tests.chat.asgi_clients import SseStream


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
