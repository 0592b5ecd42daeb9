"""Errors a client can see: a stable code, a human message, an HTTP status; and the one JSON
shape every transport and page answers them with.

Below every layer (guards refuse with it too), so it imports nothing from the project.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import JsonResponse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class Text:
    """A translatable message with its values, rendered in the language active when it is shown
    (`str(text)`), not when it is made: `Text(_("There is no room %(slug)s."), slug=...)`. The
    values may be lazy messages too."""

    __slots__ = ("msgid", "params")

    def __init__(self, msgid: str | Promise | Text, **params: Any):
        self.msgid = msgid
        self.params = params

    def __str__(self) -> str:
        return render(self.msgid, self.params)

    def __repr__(self) -> str:
        return f"Text({str(self)!r})"


def render(message: str | Promise | Text, params: Mapping[str, Any] | None = None) -> str:
    """`message` in the active language, its `%(name)s` placeholders filled from `params` (lazy
    values rendered too). An `ngettext_lazy` message picks its form from its number's value."""
    if not params:
        return str(message)
    values = {
        name: str(value) if isinstance(value, (Promise, Text)) else value for name, value in params.items()
    }
    if isinstance(message, Text):
        message = str(message)
    return str(message % values)


class ChatError(Exception):
    """A refusal with a stable `code` (documented in docs/PROTOCOL.md) and a message in the
    language active when it is shown (`as_dict`, `as_frame`, `message`), not when it is raised:
    `ChatError("room_not_found", _("There is no room %(slug)s."), params={"slug": ...})`."""

    status = 400

    def __init__(
        self,
        code: str,
        message: str | Promise | Text,
        *,
        status: int | None = None,
        params: Mapping[str, Any] | None = None,
        **extra: Any,
    ):
        super().__init__(code)
        self.code = code
        self.text = message
        self.params = params
        if status is not None:
            self.status = status
        self.extra = extra

    @property
    def message(self) -> str:
        """The message in the active language."""
        return render(self.text, self.params)

    def __str__(self) -> str:
        return self.message

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
    return ChatError("login_required", _("Log in to post in this room."), status=401)


def room_not_found(slug: str) -> ChatError:
    return ChatError(
        "room_not_found", _("There is no room %(slug)s."), status=404, params={"slug": repr(slug)}
    )


def private_room() -> ChatError:
    return ChatError("private_room", _("This room is private: only its members may enter."), status=403)


def rate_limited(message: str | Promise | Text, retry_after: int) -> ChatError:
    """A flood limit refused: `message` says which; the client may retry after `retry_after` s."""
    return ChatError(
        "rate_limited",
        _("%(reason)s Try again in %(seconds)s s."),
        status=429,
        params={"reason": message, "seconds": retry_after},
        retry_after=retry_after,
    )


def invalid_token(message: str | Promise | Text | None = None, code: str = "invalid_token") -> ChatError:
    """A bearer token that is unknown or malformed (`invalid_token`), expired (`token_expired`)
    or revoked (`token_revoked`): 401, whatever the session says."""
    return ChatError(code, _("This API token is not valid.") if message is None else message, status=401)


def token_forbidden(
    code: str, message: str | Promise | Text, *, params: Mapping[str, Any] | None = None, **extra: Any
) -> ChatError:
    """A valid token used beyond what it allows: `token_scope` (a scope it lacks, `scope` names
    it), `token_room` (a room it is not for), `token_not_allowed` (a page that needs a session)."""
    return ChatError(code, message, status=403, params=params, **extra)
