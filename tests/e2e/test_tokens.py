"""API tokens against real daphne processes on Redis: revoking a token on one process ends what
it opened on every process (WebSocket, SSE with a ticket made with it, a waiting long-poll):
through the hubs' notice when it is revoked on the account page, through each process's
periodic check when it is revoked where no notice is sent (the shell)."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from .conftest import DEMO_ROOM, DaphneServer, SignedIn, login, manage, unique_prefix

# `alone`: the connections must end within a bound, which a loaded machine stretches.
pytestmark = [pytest.mark.e2e, pytest.mark.redis, pytest.mark.timeout(120), pytest.mark.alone]

# A notice arrives in milliseconds; room for a loaded machine, far below CHECK_NEVER_SECS.
ENDED_WITHIN_SECS = 10.0
CHECK_NEVER_SECS = "600"  # the periodic check, out of the way of a test of the notice


def new_token(server: DaphneServer, user: str, scopes: str) -> str:
    return manage(server.env, "createtoken", user, "--scopes", scopes).strip().splitlines()[-1]


def revoke_on_the_account_page(server: DaphneServer, user: str, token: str) -> None:
    """Press *Revoke* on the token's row of `/accounts/tokens/`, as its owner."""
    page = SignedIn(server.base_url, login(server.base_url, user))
    listing = httpx.get(server.base_url + "/accounts/tokens/", headers=page.headers).text
    row = next(part for part in listing.split("<tr>") if f"<code>{token[:8]}" in part)
    action = re.search(r'action="(/accounts/tokens/\d+/revoke)"', row)
    assert action is not None, row
    answer = httpx.post(server.base_url + action[1], headers=page.headers)
    assert answer.status_code == 302, answer.text


def read_until_closed(ws: ClientConnection) -> tuple[list[dict[str, Any]], int | None]:
    """The frames a WebSocket receives until the server closes it, and the close code."""
    frames = []
    try:
        while True:
            frames.append(json.loads(ws.recv(timeout=ENDED_WITHIN_SECS)))
    except ConnectionClosed as closed:
        return frames, closed.rcvd.code if closed.rcvd is not None else None


def test_revoking_a_token_on_one_process_ends_its_connections_on_every_process(
    start_server: Callable[..., DaphneServer], redis_url: str
) -> None:
    env = {"REDIS_URL": redis_url, "REDIS_PREFIX": unique_prefix(), "CHAT_TOKEN_CHECK_SECS": CHECK_NEVER_SECS}
    one, two = start_server(**env), start_server(**env)
    raw = new_token(one, "alice", "read,post")
    bearer = {"Authorization": f"Bearer {raw}"}
    ticket = httpx.post(f"{two.base_url}/rooms/{DEMO_ROOM}/tickets", headers=bearer).json()["ticket"]

    with connect(f"{one.ws_url}/ws/rooms/{DEMO_ROOM}/", additional_headers=bearer, open_timeout=10) as ws:
        assert json.loads(ws.recv(timeout=5))["me"]["name"] == "alice"
        sse_lines: list[str] = []
        sse_open = threading.Event()

        def read_sse() -> None:
            url = f"{two.base_url}/rooms/{DEMO_ROOM}/events?ticket={ticket}"
            with httpx.stream("GET", url, timeout=ENDED_WITHIN_SECS * 2) as response:
                assert response.status_code == 200
                for line in response.iter_lines():
                    sse_lines.append(line)
                    sse_open.set()

        poll: dict[str, Any] = {}
        last_seq = httpx.get(f"{two.base_url}/rooms/{DEMO_ROOM}/poll", headers=bearer).json()["last_seq"]
        sse = threading.Thread(target=read_sse, daemon=True)

        def waiting_poll() -> None:
            url = f"{two.base_url}/rooms/{DEMO_ROOM}/poll?after={last_seq}&timeout=50"
            answer = httpx.get(url, headers=bearer, timeout=60)
            poll.update(status=answer.status_code, body=answer.json())

        held = threading.Thread(target=waiting_poll, daemon=True)
        sse.start()
        held.start()
        assert sse_open.wait(10)
        time.sleep(0.5)  # the poll is held

        revoke_on_the_account_page(one, "alice", raw)

        frames, code = read_until_closed(ws)
        assert code == 4401
        assert [f["code"] for f in frames if f["type"] == "error"] == ["token_revoked"]
        sse.join(ENDED_WITHIN_SECS)
        assert not sse.is_alive(), "the SSE response did not end"
        refused = [line for line in sse_lines if line.startswith("event: refused")]
        assert refused, sse_lines
        data = sse_lines[sse_lines.index(refused[0]) + 1]
        assert json.loads(data.removeprefix("data: "))["code"] == "token_revoked"
        held.join(ENDED_WITHIN_SECS)
        assert not held.is_alive(), "the long-poll still waits"
        assert (poll["status"], poll["body"]["code"]) == (401, "token_revoked")
        # And nothing opens with it again, on either process.
        for server in (one, two):
            answer = httpx.get(f"{server.base_url}/rooms/{DEMO_ROOM}/events?ticket={ticket}")
            assert (answer.status_code, answer.json()["code"]) == (401, "token_revoked")


def test_a_token_revoked_from_the_shell_ends_its_connections_at_the_next_check(
    start_server: Callable[..., DaphneServer], redis_url: str
) -> None:
    env = {"REDIS_URL": redis_url, "REDIS_PREFIX": unique_prefix(), "CHAT_TOKEN_CHECK_SECS": "1"}
    one, two = start_server(**env), start_server(**env)
    raw = new_token(one, "bob", "read")
    bearer = {"Authorization": f"Bearer {raw}"}
    with (
        connect(f"{one.ws_url}/ws/rooms/{DEMO_ROOM}/", additional_headers=bearer, open_timeout=10) as first,
        connect(f"{two.ws_url}/ws/rooms/{DEMO_ROOM}/", additional_headers=bearer, open_timeout=10) as second,
    ):
        for ws in (first, second):
            assert json.loads(ws.recv(timeout=5))["type"] == "hello"
        script = (
            "from django.utils import timezone\n"
            "from chat.models import ApiToken\n"
            f"ApiToken.objects.filter(prefix={raw[:8]!r}).update(revoked_at=timezone.now())\n"
        )
        manage(one.env, "shell", "-c", script)
        for ws in (first, second):
            frames, code = read_until_closed(ws)
            assert code == 4401
            assert [f["code"] for f in frames if f["type"] == "error"] == ["token_revoked"]
