"""Types every layer shares: ASGI's callables and messages, and "a user" (signed in or not).

Defined once and imported everywhere, as starlette's `types.py` does. No imports from the
project, so any module may use it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, TypeAlias

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

Scope: TypeAlias = MutableMapping[str, Any]
Message: TypeAlias = MutableMapping[str, Any]
Receive: TypeAlias = Callable[[], Awaitable[Message]]
Send: TypeAlias = Callable[[Message], Awaitable[None]]
ASGIApp: TypeAlias = Callable[[Scope, Receive, Send], Awaitable[None]]

# A request's or connection's user: a signed-in account or AnonymousUser.
AnyUser: TypeAlias = AbstractBaseUser | AnonymousUser
