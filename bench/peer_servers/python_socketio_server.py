"""The python-socketio peer on aiohttp: number the message, broadcast it to the room, ack it.

Run by bench/peers.py with a throwaway virtualenv's Python:
    python python_socketio_server.py <port>
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Any

import socketio  # type: ignore[import-not-found]
from aiohttp import web  # type: ignore[import-not-found]

ROOM = "bench"
USER = {"id": 1, "name": "bench"}

sio = socketio.AsyncServer(async_mode="aiohttp", transports=["websocket"], max_http_buffer_size=64 * 1024)
app = web.Application()
sio.attach(app)
last_seq = 0


@sio.event
async def connect(sid: str, environ: dict[str, Any]) -> None:
    await sio.enter_room(sid, ROOM)


@sio.on("message")
async def message(sid: str, data: dict[str, Any]) -> dict[str, int]:
    global last_seq
    last_seq += 1
    event = {
        "seq": last_seq,
        "kind": "message",
        "id": last_seq,
        "user": USER,
        "text": str(data.get("text", "")),
        "ts": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
    await sio.emit("event", event, room=ROOM)
    return {"seq": last_seq, "id": last_seq}


if __name__ == "__main__":
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
