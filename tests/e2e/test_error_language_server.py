"""Refusals on an open WebSocket follow the connection's language against a real daphne served
as in production (config/serve.py), whose leaner WebSocket connection empties the handshake's
headers once it is open (chat/transports/lean_protocol.py): the language is noted before."""

from __future__ import annotations

import json

import pytest
from websockets.sync.client import connect

from .conftest import DEMO_ROOM, DaphneServer

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]


def refusals(server: DaphneServer, headers: dict[str, str]) -> list[dict[str, str]]:
    """A guest's unknown frame and post, answered on an open WebSocket: the two error frames."""
    answers = []
    with connect(
        f"{server.ws_url}/ws/rooms/{DEMO_ROOM}/", additional_headers={"Origin": server.base_url, **headers}
    ) as socket:
        assert json.loads(socket.recv(timeout=10))["type"] == "hello"
        socket.send(json.dumps({"type": "bogus", "nonce": 1}))
        socket.send(json.dumps({"type": "message", "text": "hi", "nonce": 2}))
        while len(answers) < 2:
            frame = json.loads(socket.recv(timeout=10))
            if frame["type"] == "error":
                answers.append({"code": frame["code"], "message": frame["message"]})
    return sorted(answers, key=lambda answer: answer["code"])


def test_an_open_websockets_refusals_are_in_its_browsers_language(server: DaphneServer) -> None:
    english = refusals(server, {"Accept-Language": "fr"})
    japanese = refusals(server, {"Accept-Language": "ja-JP,ja;q=0.9"})
    chinese = refusals(server, {"Accept-Language": "ja", "Cookie": "language=zh-hans"})
    assert [answer["code"] for answer in japanese] == ["login_required", "unknown_type"]
    assert [answer["code"] for answer in chinese] == [answer["code"] for answer in english]
    assert english[0]["message"] == "Log in to post in this room."
    assert japanese[0]["message"] == "このルームに投稿するにはログインしてください。"
    assert japanese[1]["message"].startswith("type は次のいずれかにしてください")
    assert chinese[0]["message"] == "登录后才能在此房间发言。"
