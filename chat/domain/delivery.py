"""What the fan-out must know about events, decided here and handed to it at startup
(`ChatConfig.ready` installs them as the hub's `EventRules`): the hub knows no event kinds."""

from __future__ import annotations

from chat.models import CONTENT_KINDS, EventKind

from .wire import WireEvent


def changes_access(event: WireEvent) -> bool:
    """After this event, live readers must re-check that they may still read the room: a
    `settings` event of a private room (it turned private, or lost a member)."""
    return event.get("kind") == EventKind.SETTINGS and bool((event.get("settings") or {}).get("private"))


def may_sample(event: WireEvent) -> bool:
    """A viewer who asked for at most `max_rate` comments a second may be spared this event:
    danmaku only (a chat message, a delete or a ban always arrives)."""
    return event.get("kind") == EventKind.DANMAKU


def retracts(event: WireEvent) -> bool:
    """This event takes back or changes what earlier events showed (a delete, a clear, a ban's
    purge, a rejected review, new settings, a pin): a catch-up served from the feed's memory of
    recent events would still show them as first sent, so the feed forgets that memory and such
    catch-ups read the log, which has them as they are now. Plain content keeps it."""
    return event.get("kind") not in CONTENT_KINDS
