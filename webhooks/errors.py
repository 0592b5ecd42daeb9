"""Webhook errors: a stable code, a message for people, an HTTP status (chat's error shape)."""

from __future__ import annotations

from chat.errors import ChatError


class WebhookError(ChatError):
    def __init__(self, code: str, message: str, *, status: int = 400) -> None:
        super().__init__(code, message, status=status)
