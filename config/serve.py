"""Run the site under daphne with the project's limits: `python -m config.serve [--port N]`.

The one place that knows how daphne is started, used by `make run`, the tests and the docs.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from chat.params import FRAME_MAX_BYTES

# Pending connections the kernel queues for us (Twisted's default is 50). When clients
# reconnect together after a restart, a short queue drops SYNs and clients wait out TCP's
# 1, 3, 7, 15 s retries; the kernel caps this at net.core.somaxconn.
LISTEN_BACKLOG = 2048


def daphne_argv(host: str, port: int, extra: list[str]) -> list[str]:
    interface = host.replace(":", r"\:")  # IPv6 addresses inside a Twisted endpoint string
    return [
        "--endpoint", f"tcp:port={port}:interface={interface}:backlog={LISTEN_BACKLOG}",
        # Larger frames are refused with close code 1009 before they are read whole.
        "--websocket-max-message-size", str(FRAME_MAX_BYTES),
        "--websocket-max-frame-size", str(FRAME_MAX_BYTES),
        *extra,
        "config.asgi:application",
    ]  # fmt: skip


def _command_line() -> Any:
    from daphne.cli import CommandLineInterface
    from daphne.server import Server

    from chat.direct import EXTENSION, HTTP_EXTENSION, DirectHttpWriter, DirectWriter

    class ChatServer(Server):
        def create_application(self, protocol: Any, scope: dict[str, Any]) -> Any:
            # The fan-out's fast path (chat/direct.py): frames written straight to the connection.
            if scope.get("type") == "websocket":
                scope["extensions"] = {**(scope.get("extensions") or {}), EXTENSION: DirectWriter(protocol)}
            elif scope.get("type") == "http":
                writer = DirectHttpWriter(protocol)
                scope["extensions"] = {**(scope.get("extensions") or {}), HTTP_EXTENSION: writer}
            return super().create_application(protocol, scope)

        def listen_success(self, port: Any) -> None:
            # Fail bad connections with a close frame, not a dropped socket: a client that
            # sends an oversized frame then reads close code 1009 instead of an abnormal 1006.
            # (autobahn copies options from the factory into each new connection.)
            self.ws_factory.setProtocolOptions(failByDrop=False)
            super().listen_success(port)

    class ChatCommandLine(CommandLineInterface):
        server_class = ChatServer

    return ChatCommandLine()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    args, extra = parser.parse_known_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    _command_line().run(daphne_argv(args.host, args.port, extra))


if __name__ == "__main__":
    main(sys.argv[1:])
