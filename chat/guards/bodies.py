"""How large a request body may be, by path: refused before it is read (chat/transports/bounded.py
applies it in daphne's own protocol layer, as soon as `Content-Length` or a chunk passes it).

Every path gets `CHAT_REQUEST_BODY_MAX_BYTES` (64 KiB: a chat message is at most 500 characters,
a moderation request a few hundred bytes, a login form less) and the project's error shape.
Apps register paths of their own: a larger limit (danmaku's Bilibili XML upload), or the error
shape of someone else's protocol (DPlayer's API).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from chat.errors import ChatError

ErrorBody = Callable[[ChatError], dict[str, Any]]


def default_limit() -> int:
    return int(settings.CHAT_REQUEST_BODY_MAX_BYTES)


def frame_body(error: ChatError) -> dict[str, Any]:
    return error.as_frame()


@dataclass(frozen=True)
class BodyRule:
    limit: Callable[[], int] = default_limit  # read when a request arrives (tests override settings)
    error_body: ErrorBody = frame_body  # the JSON a refusal answers with


_rules: list[tuple[re.Pattern[str], BodyRule]] = []


def add_body_rule(path_pattern: str, rule: BodyRule) -> None:
    """Requests whose path (without the query string) matches `path_pattern` follow `rule`."""
    compiled = re.compile(path_pattern)
    if all(existing.pattern != compiled.pattern for existing, _ in _rules):
        _rules.append((compiled, rule))


def body_rule(path: str) -> BodyRule:
    """The rule for bodies of requests to `path`."""
    for pattern, rule in _rules:
        if pattern.fullmatch(path):
            return rule
    return BodyRule()
