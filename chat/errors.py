"""Errors a client can see: a stable code, a human message, an HTTP status; and the one JSON
shape every transport and page answers them with.

Below every layer (guards refuse with it too), so it imports nothing from the project.
"""

from __future__ import annotations

from typing import Any

from django.http import JsonResponse


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

    @property
    def retry_after(self) -> int | None:
        """Whole seconds after which trying again may work (429s), None for other refusals."""
        value = self.extra.get("retry_after")
        return None if value is None else max(1, int(value))

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.extra}

    def as_frame(self, nonce: Any = None) -> dict[str, Any]:
        """The error as the WebSocket's `error` frame and every HTTP error body: `nonce` is the
        client's, echoed, when it answers a write."""
        return {"type": "error", "nonce": nonce, **self.as_dict()}

    def headers(self) -> dict[str, str]:
        """HTTP headers that go with the error's status: `Retry-After` on a 429."""
        retry_after = self.retry_after
        return {} if retry_after is None else {"Retry-After": str(retry_after)}


def error_response(
    error: ChatError, nonce: Any = None, *, body: dict[str, Any] | None = None
) -> JsonResponse:
    """The error as a Django response: its status, its headers and `error.as_frame(nonce)` (or
    `body`, for a protocol of someone else's, such as DPlayer's)."""
    response = JsonResponse(error.as_frame(nonce) if body is None else body, status=error.status)
    for name, value in error.headers().items():
        response[name] = value
    return response


def login_required() -> ChatError:
    return ChatError("login_required", "Log in to post in this room.", status=401)


def room_not_found(slug: str) -> ChatError:
    return ChatError("room_not_found", f"There is no room {slug!r}.", status=404)


def private_room() -> ChatError:
    return ChatError("private_room", "This room is private: only its members may enter.", status=403)


def rate_limited(message: str, retry_after: int) -> ChatError:
    """A flood limit refused: `message` says which; the client may retry after `retry_after` s."""
    return ChatError(
        "rate_limited", f"{message} Try again in {retry_after} s.", status=429, retry_after=retry_after
    )


def invalid_token(message: str = "This API token is not valid.", code: str = "invalid_token") -> ChatError:
    """A bearer token that is unknown or malformed (`invalid_token`), expired (`token_expired`)
    or revoked (`token_revoked`): 401, whatever the session says."""
    return ChatError(code, message, status=401)


def token_forbidden(code: str, message: str, **extra: Any) -> ChatError:
    """A valid token used beyond what it allows: `token_scope` (a scope it lacks, `scope` names
    it), `token_room` (a room it is not for), `token_not_allowed` (a page that needs a session)."""
    return ChatError(code, message, status=403, **extra)
