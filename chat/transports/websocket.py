"""The WebSocket transport: decode a frame, call a domain function, answer. See docs/PROTOCOL.md."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Callable, Coroutine
from enum import IntEnum
from typing import Any

from autobahn.exception import Disconnected  # daphne's WebSocket layer, on a write after a close
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from chat.clients import client_address, query_param
from chat.domain.batching import run_batched
from chat.domain.eventlog import LogBusy, log_position
from chat.domain.inputs import clean_nonce, parse_cursor, parse_epoch, parse_json_object, parse_max_rate
from chat.domain.posting import WriteContext, submit_frame, writer_types
from chat.domain.tokens import needs_recheck, recheck, require_scope
from chat.domain.wire import FRAME_MAX_BYTES, dumps, hello_payload, reset_frame, size_label, text_frame
from chat.errors import ChatError, private_room
from chat.extensions import WEBSOCKET_WRITER
from chat.models import Room, TokenScope
from chat.realtime.batch import Batch
from chat.realtime.subscription import Subscription, resume_point
from chat.types import Scope, Send

from .calls import CALL_FRAME_TYPES, CallSession
from .direct import DirectWriter
from .http import admit_reader, load_room, scope_presence, still_readable
from .language import connection_language, error_text, note_browser_language
from .token_watch import watch_token

logger = logging.getLogger(__name__)


async def refuse_websocket(scope: Scope, send: Send, code: CloseCode, error: ChatError | None = None) -> None:
    """Turn a WebSocket away: accept it, say why (an `error` frame) if there is a reason to give,
    and close it with `code`. (Closing before accepting would be an HTTP 403 with no reason a
    browser's script can read.) The one way every refusal goes, in the consumer or before it."""
    await send({"type": "websocket.accept"})
    if error is not None:
        await send({"type": "websocket.send", "text": await error_text(scope, error)})
    await send({"type": "websocket.close", "code": int(code)})  # autobahn rejects non-int codes


class CloseCode(IntEnum):
    MESSAGE_TOO_BIG = 1009  # sent by daphne itself for frames over FRAME_MAX_BYTES
    # Not 1011: a server may send only 1000 and 3000-4999 (autobahn refuses anything else).
    SERVER_ERROR = 4500
    BAD_REQUEST = 4400
    UNAUTHORIZED = 4401  # an API token that is not valid (unknown, expired, revoked), or no longer
    FORBIDDEN = 4403  # a private room this client may not read (or no longer may)
    ROOM_NOT_FOUND = 4404
    TOO_MANY_CONNECTIONS = 4429  # the address opened too many connections; retry_after says when
    SERVER_BUSY = 4503  # this process holds all the connections it may; retry_after says when


# A connection whose client has not taken this much of what we sent is behind: its subscription
# stops writing live and, once the backlog has drained below WS_DRAINED_BYTES, catches up from
# the log at its cursor. Memory per slow client stays bounded; everyone else is unaffected.
WS_LAG_BYTES = 512 * 1024
# Writes (posts) of one connection being processed at once; more wait for one to finish.
WRITES_IN_FLIGHT = 16
WS_DRAINED_BYTES = 64 * 1024
# A post into a room whose log takes an import's final copy (LogBusy) is tried again this
# often, for at most this long, before the client is told: a copy of 100,000 comments on
# SQLite lasts a few seconds, and the user would rather wait than resend.
LOG_BUSY_RETRY_SECS = 0.05
LOG_BUSY_WAIT_MAX_SECS = 10.0

# Channels gives every consumer its own layer channel (and, on Redis, a blocking receive)
# unless its alias names no configured layer. Connections never receive from the layer:
# the process's hub does, for all of them.
NO_CHANNEL_LAYER = "connections-use-the-hub"


# The Room objects connections hold, one per room and loaded row: connections whose rows are
# equal share one (about 1.2 KB of every idle connection otherwise). A connection keeps the room
# as it was when it connected, as before: its id and slug, and the greeting's fields; a write
# or a call reads the room's current settings and access itself (chat/domain/access.py).
_shared_rooms: weakref.WeakValueDictionary[int, Room] = weakref.WeakValueDictionary()


def shared_room(room: Room) -> Room:
    """`room`, or an equal Room object another connection of this process already holds."""
    known = _shared_rooms.get(room.pk)
    if known is not None and all(
        getattr(known, field.attname) == getattr(room, field.attname) for field in Room._meta.concrete_fields
    ):
        return known
    _shared_rooms[room.pk] = room
    return room


_last_presence: tuple[str, list[bytes]] = ("", [])


def presence_frames(frame: str) -> list[bytes]:
    """A presence frame as WebSocket bytes, framed once per broadcast: the hub hands the same
    frame to every connection of the room. Through `send()` each connection framed it again
    (about 50 microseconds): 500 ms of the event loop per broadcast at 10,000 connections,
    once a second while people come and go (measured as loop stalls while 10,000 connected)."""
    global _last_presence
    if _last_presence[0] != frame:
        _last_presence = (frame, [text_frame(frame.encode())])
    return _last_presence[1]


class RoomConsumer(AsyncWebsocketConsumer):
    """One room over WebSocket: hello, backlog after `after`, then live events; posts in."""

    channel_layer_alias = NO_CHANNEL_LAYER

    room: Room
    subscription: Subscription | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Tasks in flight, kept referenced until done; made on first use (most viewers never post).
        self.access_checks: set[asyncio.Task[None]] | None = None
        self.writes: set[asyncio.Task[None]] | None = None
        self.direct_writer: DirectWriter | None = None
        self.unwatch_token: Callable[[], None] | None = None
        self.call: CallSession | None = None  # the room's call, as this connection sees it

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        """Channels' consumer loop without its task and `asyncio.wait` around every receive
        (which it needs only to listen to a channel layer too): a smaller idle connection."""
        self.scope = scope
        self.channel_layer = None
        self.base_send = send
        try:
            while True:
                await self.dispatch(await receive())
        except StopConsumer:
            pass
        finally:
            self.release()  # also when cancelled: the server stopping, or a test's teardown

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels' dispatch, without its `close_old_connections` round trip to the database
        thread before every incoming frame: that hop queues behind the writes in flight, so it
        capped a connection at a few hundred frames a second under load. Every database call
        here goes through `database_sync_to_async`, which closes old connections itself."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def websocket_connect(self, message: dict[str, Any]) -> None:
        self.direct_writer = (self.scope.get("extensions") or {}).get(WEBSOCKET_WRITER)
        if self.direct_writer is not None:
            self.direct_writer.forget_http_upgrade()
        await super().websocket_connect(message)

    async def connect(self) -> None:
        slug = self.scope["url_route"]["kwargs"]["slug"]
        try:
            after = parse_cursor(query_param(self.scope, "after"))
            epoch = parse_epoch(query_param(self.scope, "epoch"))
            max_rate = parse_max_rate(query_param(self.scope, "max_rate"))
        except ChatError as error:
            await self.refuse(CloseCode.BAD_REQUEST, error)
            return
        room = await load_room(slug)
        if room is None:
            await self.refuse(CloseCode.ROOM_NOT_FOUND)
            return
        try:
            await admit_reader(self.scope, room, connecting=True)
        except ChatError as error:
            code = CloseCode.TOO_MANY_CONNECTIONS if error.status == 429 else CloseCode.FORBIDDEN
            await self.refuse(code, error)
            return
        except Exception:
            logger.exception("room %s: could not admit the connection", slug)
            await self.refuse(CloseCode.SERVER_ERROR)
            return
        note_browser_language(self.scope)  # its headers go once it is open (lean_protocol.py)
        await self.accept()
        self.room = room = shared_room(room)
        key, name = scope_presence(self.scope)
        self.subscription = Subscription(room.pk, self, key, name, max_rate)
        self.unwatch_token = watch_token(self.scope.get("api_token"), self.token_ended)
        try:
            await self.start_stream(room, after, epoch)
            self.call = CallSession(self, room)
            await self.call.open()
        except Disconnected:
            # The client left while the stream was being set up: nothing went wrong here.
            self.release()
        except Exception:
            logger.exception("room %s: could not start the stream", slug)
            self.release()
            await self.close_with(CloseCode.SERVER_ERROR)
        except BaseException:
            # Cancelled: Channels will not call disconnect() for a connect that never finished.
            self.release()
            raise

    async def refuse(self, code: CloseCode, error: ChatError | None = None) -> None:
        await refuse_websocket(self.scope, self.base_send, code, error)

    async def close_with(self, code: CloseCode, error: ChatError | None = None) -> None:
        """Close an open connection with `code`, after an `error` frame saying why if there is one."""
        if error is not None:
            await self.send_error(error)
        await self.close(code=int(code))  # autobahn rejects non-int codes

    async def start_stream(self, room: Room, after: int | None, epoch: str | None = None) -> None:
        """hello, then a reset or the backlog after `after` (of log `epoch`), then live."""
        assert self.subscription is not None
        await self.subscription.open()
        last_seq, log_epoch = await database_sync_to_async(log_position)(room.pk)
        presence = self.subscription.greeting_presence()
        hello = hello_payload(room, last_seq, self.scope.get("user"), presence, log_epoch)
        await self.send(text_data=dumps(hello))
        cursor, reset = resume_point(after, last_seq, settings.CHAT_BACKLOG_MAX, epoch, log_epoch)
        if reset is not None:
            await self.send(text_data=dumps(reset_frame(last_seq, reset, log_epoch)))
        await self.subscription.start(cursor)

    def release(self) -> None:
        if self.call is not None:
            self.call.close()
            self.call = None
        if self.unwatch_token is not None:
            self.unwatch_token()
            self.unwatch_token = None
        if self.subscription is not None:
            self.subscription.close()
            self.subscription = None

    async def disconnect(self, code: int) -> None:
        self.release()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is None:
            await self.send_error(ChatError("invalid", _("Binary frames are not accepted; send JSON text.")))
            return
        if len(text_data) > FRAME_MAX_BYTES:  # daphne started some other way than config/serve.py
            limit = size_label(FRAME_MAX_BYTES)
            await self.send_error(
                ChatError(
                    "too_long", _("Frames are limited to %(limit)s."), params={"limit": limit}, status=413
                )
            )
            return
        try:
            frame = parse_json_object(text_data)
            nonce = clean_nonce(frame.get("nonce"))
        except ChatError as error:
            await self.send_error(error)
            return
        try:
            if frame.get("type") == "ping":
                await self.send(text_data=dumps({"type": "pong"}))
            elif frame.get("type") in writer_types():
                await self.check_token()
                await self.start_write(frame, nonce)
            elif frame.get("type") in CALL_FRAME_TYPES and self.call is not None:
                await self.check_token()
                await self.call.receive(frame, nonce)
            else:
                known = ", ".join([*writer_types(), "ping", *CALL_FRAME_TYPES])
                raise ChatError("unknown_type", _("type must be one of: %(known)s."), params={"known": known})
        except ChatError as error:
            await self.send_error(error, nonce)

    async def check_token(self) -> None:
        """A connection opened with an API token writes only with `post`, and only while the
        token lives (looked at again every RECHECK_SECONDS)."""
        token = self.scope.get("api_token")
        if token is None:
            return
        require_scope(token, TokenScope.POST)
        if needs_recheck(token):
            await database_sync_to_async(recheck)(token)

    async def start_write(self, frame: dict[str, Any], nonce: Any) -> None:
        """Run a write without waiting for it, so one client's posts do not queue behind each
        other's round trip to the database thread (which runs them in the order they came, so
        they commit in that order). At most WRITES_IN_FLIGHT at once per connection."""
        if self.writes is None:
            self.writes = set()
        while len(self.writes) >= WRITES_IN_FLIGHT:
            await asyncio.wait(self.writes, return_when=asyncio.FIRST_COMPLETED)
        task = asyncio.create_task(self.receive_write(frame, nonce))
        self.writes.add(task)
        task.add_done_callback(self.writes.discard)

    async def receive_write(self, frame: dict[str, Any], nonce: Any) -> None:
        context = WriteContext(ip=client_address(self.scope))
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + LOG_BUSY_WAIT_MAX_SECS
        try:
            while True:
                try:
                    posted = await run_batched(
                        submit_frame, self.room, self.scope["user"], frame, context, key=self.room.pk
                    )
                    break
                except LogBusy:
                    if loop.time() >= give_up_at:
                        raise
                    await asyncio.sleep(LOG_BUSY_RETRY_SECS)
        except ChatError as error:
            await self.send_error(error, nonce)
            return
        except Exception:
            logger.exception("room %s: a write failed", self.room.slug)
            failure = ChatError("server_error", _("The server could not save this."), status=500)
            await self.send_error(failure, nonce)
            return
        if posted.event is None:  # held: the ack says why, in the connection's language
            with translation.override(await connection_language(self.scope)):
                ack = dumps(posted.ack(nonce))
            await self.send(text_data=ack)
            return
        await self.send(text_data=dumps(posted.ack(nonce)))

    async def send_error(self, error: ChatError, nonce: Any = None) -> None:
        """The `error` frame, its message in the connection's language."""
        await self.send(text_data=await error_text(self.scope, error, nonce))

    # Sink protocol (called by the subscription).

    def write_now(self, batch: Batch) -> bool:
        """The fan-out's common case without a coroutine (`Subscription.deliver_now`): the
        batch's frames straight to the socket, when this connection has a direct writer, keeps
        up, and the batch changes no access. False (nothing written): use `write_batch`."""
        writer = self.direct_writer
        if writer is None or batch.changes_access:
            return False
        return writer.write_live(batch.ws_raw_frames, WS_LAG_BYTES)

    async def write_batch(self, batch: Batch) -> None:
        writer = self.direct_writer
        # Framed once per batch and shared by every connection; `send()` without a direct writer
        # or once the connection is closing.
        if writer is None or not writer.write_all(batch.ws_raw_frames):
            try:
                for frame in batch.ws_frames:
                    await self.send(text_data=frame)
            except Disconnected:
                return  # the client left while the batch was on its way; it resumes by its cursor
        if batch.changes_access:
            # In its own task: the hub is writing this batch to every connection of the room.
            task = asyncio.create_task(self.recheck_access())
            if self.access_checks is None:
                self.access_checks = set()
            self.access_checks.add(task)
            task.add_done_callback(self.access_checks.discard)

    def token_ended(self, refusal: ChatError) -> None:
        """The token this connection opened with was revoked or expired (token_watch.py)."""
        self.unwatch_token = None
        self.spawn(self.end_for_token(refusal))

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` in its own task, kept referenced until done."""
        task = asyncio.create_task(work)
        if self.access_checks is None:
            self.access_checks = set()
        self.access_checks.add(task)
        task.add_done_callback(self.access_checks.discard)

    async def end_for_token(self, refusal: ChatError) -> None:
        with contextlib.suppress(Disconnected):  # the client left first
            await self.close_with(CloseCode.UNAUTHORIZED, refusal)

    async def recheck_access(self) -> None:
        if not await still_readable(self.scope, self.room.pk):
            await self.close_with(CloseCode.FORBIDDEN, private_room())

    def lagging(self) -> bool:
        """The client has not taken WS_LAG_BYTES of what we wrote: stop writing live to it."""
        writer = self.direct_writer
        return writer is not None and writer.buffered() > WS_LAG_BYTES

    def drained(self) -> bool:
        writer = self.direct_writer
        return writer is None or writer.buffered() < WS_DRAINED_BYTES

    async def write_presence(self, frame: str) -> None:
        writer = self.direct_writer
        if writer is not None and writer.write_all(presence_frames(frame)):
            return
        with contextlib.suppress(Disconnected):  # the client left; the next hello has presence
            await self.send(text_data=frame)

    async def write_reset(self, frame: str) -> None:
        with contextlib.suppress(Disconnected):  # the client left; it resets when it comes back
            await self.send(text_data=frame)
