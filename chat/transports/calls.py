"""A WebSocket connection's part in its room's call: the `call.*` frames (docs/PROTOCOL.md
"Calls"). The consumer (websocket.py) hands every such frame to its `CallSession`; the roster
and the relay are the hub's (chat/realtime/calls.py); who may join is the domain's
(chat/domain/calls.py).
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import time
from typing import TYPE_CHECKING, Any

from autobahn.exception import Disconnected
from channels.db import database_sync_to_async
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from chat.domain.access import can_moderate
from chat.domain.calls import (
    CALL_MAX_PARTICIPANTS,
    check_may_join_call,
    clean_media,
    clean_participant_id,
    clean_signal,
    remove_from_call,
)
from chat.domain.wire import dumps
from chat.errors import ChatError
from chat.models import Room
from chat.realtime.calls import CallRelay, Entries
from chat.realtime.hub import get_hub

if TYPE_CHECKING:
    from .websocket import RoomConsumer

logger = logging.getLogger(__name__)

CALL_FRAME_TYPES = (
    "call.join",
    "call.leave",
    "call.signal",
    "call.mute",
    "call.heartbeat",
    "call.remove",
)
# Call frames one connection may send: a burst (a new peer's offer and its ICE candidates, a
# few dozen per peer) then a steady rate well above a call's needs (a heartbeat every 10 s).
CALL_FRAME_BURST = 200
CALL_FRAME_RATE = 20.0  # per second
# A heartbeat re-reads the participant's standing at most this often: a ban or timeout given
# during the call ends their part within it.
STANDING_RECHECK_SECS = 10.0


class FrameBucket:
    """A token bucket: `take()` is False once the connection sends faster than the rate."""

    def __init__(self, burst: int = CALL_FRAME_BURST, rate: float = CALL_FRAME_RATE) -> None:
        self.burst, self.rate = burst, rate
        self.tokens = float(burst)
        self.stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class CallSession:
    """One connection's view of the room's call, and its participation if it joined."""

    def __init__(self, consumer: RoomConsumer, room: Room) -> None:
        self.consumer = consumer
        self.room = room
        self.relay: CallRelay = get_hub().calls
        self.participant_id: str | None = None
        self.bucket = FrameBucket()
        self.checked_at = 0.0
        self.closed = False

    async def open(self) -> None:
        """Watch the room's roster (a `call.roster` frame now if a call is on, and on changes)."""
        await self.relay.watch(self.room.pk, self)

    def close(self) -> None:
        """The connection ended. Its participant stays in the roster until it heartbeats again
        from a new connection (`resume`), leaves, or expires: a dropped WebSocket does not end
        a call whose peer connections still stand."""
        self.closed = True
        self.relay.unwatch(self.room.pk, self)
        if self.participant_id is not None:
            self.relay.participants.pop(self.participant_id, None)

    # The watcher protocol (chat/realtime/calls.py).

    async def write_call(self, frame: str) -> None:
        if not self.closed:
            with contextlib.suppress(Disconnected):
                await self.consumer.send(text_data=frame)

    def call_ended(self, participant_id: str, reason: str, retry_after: int = 0) -> None:
        if participant_id == self.participant_id:
            self.participant_id = None
            frame: dict[str, Any] = {"type": "call.ended", "reason": reason}
            if retry_after:
                frame["retry_after"] = retry_after  # a removal: when they may join again
            self.consumer.spawn(self.write_call(dumps(frame)))

    # Frames.

    async def receive(self, frame: dict[str, Any], nonce: Any) -> None:
        if not self.bucket.take():
            raise ChatError("rate_limited", _("Too many call frames; slow down."), status=429, retry_after=1)
        kind = frame.get("type")
        handler = getattr(self, "on_" + str(kind).removeprefix("call."))
        answer: dict[str, Any] = {"type": "ack", "nonce": nonce}
        extra = await handler(frame)
        if extra:
            answer.update(extra)
        await self.consumer.send(text_data=dumps(answer))

    def require_participant(self) -> str:
        if self.participant_id is None:
            raise ChatError("not_in_call", _("Join the call first."), status=409)
        return self.participant_id

    async def on_join(self, frame: dict[str, Any]) -> dict[str, Any]:
        user = self.consumer.scope["user"]
        media = clean_media(frame)
        resume = frame.get("resume")
        if resume is not None:
            resume = clean_participant_id(resume, "resume")
        await database_sync_to_async(check_may_join_call)(self.room, user)
        self.checked_at = time.monotonic()
        fresh_id = self.participant_id or secrets.token_urlsafe(12)
        entry = {
            "user": {"id": user.pk, "name": user.get_username()},
            **media,
            "channel": self.relay.channel_name,
            "expires": time.time() + settings.CHAT_CALL_TIMEOUT,
        }

        def join(entries: Entries) -> tuple[str, list[dict[str, Any]]]:
            """One participant per user: joining again (another tab, or this page after a
            dropped connection with `resume`) takes the place of the old one."""
            mine = [e for e in entries.values() if e["user"]["id"] == user.pk]
            kept = next((e for e in mine if e["id"] == resume), None)
            replaced = [e for e in mine if e is not kept]
            if kept is None and len(entries) - len(replaced) >= CALL_MAX_PARTICIPANTS:
                return "full", []
            for old in replaced:
                del entries[old["id"]]
            pid = kept["id"] if kept is not None else fresh_id
            joined = kept["joined"] if kept is not None else time.time()
            entries[pid] = {"id": pid, "joined": joined, **entry}
            return pid, replaced

        # Reachable before the roster names it: the others may signal as soon as they see it.
        # (Only the new random id: a `resume` id is this user's only if the change says so.)
        registered = [fresh_id] if fresh_id not in self.relay.participants else []
        for candidate in registered:
            self.relay.participants[candidate] = self
        try:
            pid, replaced = await self.relay.change(self.room.pk, join)
        except BaseException:
            pid = ""
            raise
        finally:
            for candidate in registered:
                if candidate != pid:
                    self.relay.participants.pop(candidate, None)
        if pid == "full":
            raise ChatError(
                "call_full",
                _("This call is full: a call holds at most %(call_max_participants)s people."),
                params={"call_max_participants": CALL_MAX_PARTICIPANTS},
                status=409,
                limit=CALL_MAX_PARTICIPANTS,
            )
        for old in replaced:
            if old["id"] != pid:
                await self.relay.end(old["channel"], old["id"], "replaced")
        self.participant_id = pid
        self.relay.participants[pid] = self
        return {"id": pid}

    async def on_leave(self, frame: dict[str, Any]) -> None:
        pid = self.require_participant()
        self.participant_id = None
        self.relay.participants.pop(pid, None)
        await self.relay.change(self.room.pk, lambda entries: entries.pop(pid, None))

    async def on_heartbeat(self, frame: dict[str, Any]) -> None:
        pid = self.require_participant()
        if time.monotonic() - self.checked_at >= STANDING_RECHECK_SECS:
            self.checked_at = time.monotonic()
            try:
                await database_sync_to_async(check_may_join_call)(self.room, self.consumer.scope["user"])
            except ChatError:
                await self.relay.change(self.room.pk, lambda entries: entries.pop(pid, None))
                self.call_ended(pid, "removed")
                raise
        expires = time.time() + settings.CHAT_CALL_TIMEOUT

        def refresh(entries: Entries) -> bool:
            entry = entries.get(pid)
            if entry is None:
                return False
            entry["expires"] = expires
            entry["channel"] = self.relay.channel_name
            return True

        if not await self.relay.change(self.room.pk, refresh):
            self.call_ended(pid, "expired")
            raise ChatError("not_in_call", _("You are no longer in the call; join again."), status=409)

    async def on_mute(self, frame: dict[str, Any]) -> None:
        pid = self.require_participant()
        media = clean_media(frame)

        def mute(entries: Entries) -> bool:
            entry = entries.get(pid)
            if entry is None:
                return False
            entry.update(media)
            return True

        if not await self.relay.change(self.room.pk, mute):
            raise ChatError("not_in_call", _("You are no longer in the call; join again."), status=409)

    async def on_signal(self, frame: dict[str, Any]) -> None:
        pid = self.require_participant()
        to, payload = clean_signal(frame)
        _version, entries = await self.relay.store.read(self.room.pk)
        if pid not in entries:  # removed or expired, and the notice is on its way
            raise ChatError("not_in_call", _("You are no longer in the call; join again."), status=409)
        target = entries.get(to)
        if target is None or to == pid:
            raise ChatError("peer_not_found", _("No such participant in this call."), status=404)
        await self.relay.relay(target["channel"], to, {"type": "call.signal", "from": pid, **payload})

    async def on_remove(self, frame: dict[str, Any]) -> None:
        target_id = clean_participant_id(frame.get("participant"), "participant")
        user = self.consumer.scope["user"]
        if not await database_sync_to_async(can_moderate)(user, self.room):
            refusal = _("Only the room's moderators may remove someone from the call.")
            raise ChatError("forbidden", refusal, status=403)
        _version, entries = await self.relay.store.read(self.room.pk)
        target = entries.get(target_id)
        if target is None:
            raise ChatError("peer_not_found", _("No such participant in this call."), status=404)
        # Kept out before taken out: a page that rejoins as soon as it finds itself out of the
        # roster (a heartbeat's not_in_call, a `call.ended`) is refused (`call_removed`).
        seconds = await database_sync_to_async(remove_from_call)(self.room, user, int(target["user"]["id"]))
        removed = await self.relay.change(self.room.pk, lambda entries: entries.pop(target_id, None))
        if removed is not None:  # else it left or expired meanwhile, and was told so
            await self.relay.end(removed["channel"], target_id, "removed", retry_after=seconds)
