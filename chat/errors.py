"""Errors a client can see: a stable code, a human message, an HTTP status."""

from __future__ import annotations

from typing import Any


class ChatError(Exception):
    """A refusal with a stable `code` (documented in docs/PROTOCOL.md)."""

    status = 400

    def __init__(self, code: str, message: str, *, status: int | None = None, **extra: Any):
        super().__init__(message)
        self.code = code
        self.message = message
        if status is not None:
            self.status = status
        self.extra = extra

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.extra}


def login_required() -> ChatError:
    return ChatError("login_required", "Log in to post in this room.", status=401)


def room_not_found(slug: str) -> ChatError:
    return ChatError("room_not_found", f"There is no room {slug!r}.", status=404)
