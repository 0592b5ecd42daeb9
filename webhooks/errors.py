"""Webhook errors: a stable code, a message for people, an HTTP status (chat's error shape)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.functional import Promise

from chat.errors import ChatError, Text


class WebhookError(ChatError):
    def __init__(
        self,
        code: str,
        message: str | Promise | Text,
        *,
        status: int = 400,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(code, message, status=status, params=params)
