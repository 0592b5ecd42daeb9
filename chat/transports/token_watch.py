"""Held connections opened with an API token (Bearer, or a ticket made with it) end when the
token is revoked or expires, or its account is disabled.

One watch per process (per event loop): every CHAT_TOKEN_CHECK_SECS it asks the database, in one
query per TOKEN_CHECK_BATCH tokens, which of the tokens its connections hold have ended, and
tells those connections (each ends itself with the refusal: SSE a `refused` event, long-poll a
401, WebSocket an `error` frame and close 4401). The database is what every process shares, so
a revocation anywhere (the account page, the admin, the shell) reaches the connections of every
process, and expiry, which is no event at all, too. A revocation on the account page or in the
admin also sends a notice to every process's hub (chat/realtime/notices.py), on which the watch
checks at once: a channel layer may drop it, and then the periodic check still ends the
connections. The watch runs only while it has connections to watch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Callable

from channels.db import database_sync_to_async
from django.conf import settings

from chat.domain.tokens import ended_tokens
from chat.errors import ChatError
from chat.models import ApiToken
from chat.realtime.hub import get_hub
from chat.realtime.notices import TOKENS_ENDED

logger = logging.getLogger(__name__)


def check_every() -> float:
    """How long a revoked or expired token's connections may go on: one indexed query per
    process this often (CHAT_TOKEN_CHECK_SECS), whatever the number of connections, while any is
    open with a token."""
    return float(settings.CHAT_TOKEN_CHECK_SECS)


# Tokens asked about per query (a process holds at most CHAT_CONNECTIONS_MAX connections, so
# a check is a bounded number of queries).
TOKEN_CHECK_BATCH = 500

OnEnd = Callable[[ChatError], None]


class TokenWatch:
    """The token connections of one event loop, by token id."""

    def __init__(self) -> None:
        self.watchers: dict[int, set[OnEnd]] = {}
        self.task: asyncio.Task[None] | None = None
        self.wake = asyncio.Event()  # a notice said tokens ended: check now

    def watch(self, token: ApiToken, on_end: OnEnd) -> Callable[[], None]:
        """Call `on_end` (once) with the refusal when `token` ends; returns the way to stop
        watching (call it when the connection closes)."""
        watchers = self.watchers.setdefault(token.pk, set())
        watchers.add(on_end)
        if self.task is None or self.task.done():
            get_hub().notice_listeners.add(self.notice)
            self.task = asyncio.create_task(self._run(), name="token-watch")

        def unwatch() -> None:
            current = self.watchers.get(token.pk)
            if current is not None:
                current.discard(on_end)
                if not current:
                    del self.watchers[token.pk]

        return unwatch

    def notice(self, topic: str) -> None:
        """A notice to every process (chat/realtime/notices.py)."""
        if topic == TOKENS_ENDED:
            self.wake.set()

    async def _run(self) -> None:
        while self.watchers:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), check_every())
            self.wake.clear()
            try:
                await self.check()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("token watch: the check failed; trying again")

    async def check(self) -> None:
        """End the connections of every watched token that has ended."""
        token_ids = list(self.watchers)  # none, when the last one closed while the watch slept
        for start in range(0, len(token_ids), TOKEN_CHECK_BATCH):
            ended = await database_sync_to_async(ended_tokens)(token_ids[start : start + TOKEN_CHECK_BATCH])
            for token_id, error in ended.items():
                for on_end in self.watchers.pop(token_id, ()):
                    try:
                        on_end(error)
                    except Exception:
                        logger.exception("token watch: ending a connection failed")


_watches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, TokenWatch] = weakref.WeakKeyDictionary()


def token_watch() -> TokenWatch:
    """The running event loop's watch."""
    loop = asyncio.get_running_loop()
    watch = _watches.get(loop)
    if watch is None:
        watch = _watches[loop] = TokenWatch()
    return watch


def _nothing_to_unwatch() -> None:
    """What `watch_token` returns for a connection without a token: one function for all of
    them, not a closure each (most connections have no token)."""


def watch_token(token: ApiToken | None, on_end: OnEnd) -> Callable[[], None]:
    """`TokenWatch.watch` on the running loop's watch; nothing to watch without a token."""
    if token is None:
        return _nothing_to_unwatch
    return token_watch().watch(token, on_end)
