"""Plain HTTP against a real daphne: HEAD on pages, nosniff on what Django's middleware never
sees (static files, SSE, long-poll), and SSE read by a third-party client (httpx-sse)."""

from __future__ import annotations

import json

import httpx
import pytest
from httpx_sse import connect_sse

from .conftest import DaphneServer

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]


def test_a_third_party_sse_client_reads_hello_first(server: DaphneServer) -> None:
    """A lone `retry:` block would reach such a client as an empty event before `hello`."""
    with (
        httpx.Client(base_url=server.base_url, timeout=httpx.Timeout(10, read=20)) as client,
        connect_sse(client, "GET", "/rooms/demo/events") as source,
    ):
        first = next(source.iter_sse())
        assert first.event == "hello"
        assert first.retry == 3000
        assert json.loads(first.data)["type"] == "hello"


@pytest.mark.parametrize(
    "path",
    ["/", "/healthz", "/accounts/login/", "/rooms/demo/", "/rooms/demo/history", "/static/js/pages/room.js"],
)
def test_head_answers_without_a_body(server: DaphneServer, path: str) -> None:
    got = httpx.get(f"{server.base_url}{path}", timeout=10)
    head = httpx.head(f"{server.base_url}{path}", timeout=10)
    assert got.status_code == head.status_code == 200
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.content == b""


def test_static_files_and_the_streams_are_not_sniffed(server: DaphneServer) -> None:
    assert (
        httpx.get(f"{server.base_url}/static/js/pages/room.js", timeout=10).headers["x-content-type-options"]
        == "nosniff"
    )
    poll = httpx.get(f"{server.base_url}/rooms/demo/poll", params={"timeout": 0}, timeout=10)
    assert poll.headers["x-content-type-options"] == "nosniff"
    with httpx.stream("GET", f"{server.base_url}/rooms/demo/events", timeout=10) as stream:
        assert stream.headers["x-content-type-options"] == "nosniff"
