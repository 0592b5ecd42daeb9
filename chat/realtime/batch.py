"""A room's consecutive events as the fan-out carries them: encoded at most once per wire
format and shared by every connection; and the rules, decided by the domain, that say which
events change who may read and which a viewer may skip.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured

from chat.domain.wire import WireEvent, events_frame, events_frames, http_chunk, sse_events, text_frame


@dataclass(frozen=True)
class EventRules:
    """What the fan-out must know about events, decided by the domain (chat/domain/delivery.py)
    and installed once at startup (`ChatConfig.ready`): the hub itself knows no event kinds."""

    changes_access: Callable[[WireEvent], bool]  # live readers re-check that they may still read
    may_sample: Callable[[WireEvent], bool]  # a viewer's `max_rate` may skip it
    # it changes what earlier events showed: catch-ups no longer come from the feed's memory
    retracts: Callable[[WireEvent], bool] = lambda event: True


_rules: EventRules | None = None


def use_event_rules(rules: EventRules) -> None:
    global _rules
    _rules = rules


def event_rules() -> EventRules:
    if _rules is None:
        raise ImproperlyConfigured("no event rules for the fan-out: the chat app installs them when ready")
    return _rules


class Batch:
    """Consecutive events of one room, encoded at most once per wire format."""

    __slots__ = (
        "_changes_access",
        "_retracts",
        "_sampled",
        "_sse_bytes",
        "_sse_frame",
        "_ws_frame",
        "_ws_frames",
        "_ws_raw",
        "events",
    )

    def __init__(self, events: list[WireEvent]) -> None:
        self.events = events
        self._ws_frame: str | None = None
        self._ws_frames: list[str] | None = None
        self._ws_raw: list[bytes] | None = None
        self._sse_frame: str | None = None
        self._sampled: dict[int, Batch] | None = None
        self._sse_bytes: tuple[bytes, bytes] | None = None
        self._changes_access: bool | None = None
        self._retracts: bool | None = None

    @property
    def first_seq(self) -> int:
        return int(self.events[0]["seq"])

    @property
    def last_seq(self) -> int:
        return int(self.events[-1]["seq"])

    @property
    def ws_frame(self) -> str:
        if self._ws_frame is None:
            self._ws_frame = events_frame(self.events)
        return self._ws_frame

    @property
    def ws_frames(self) -> list[str]:
        """`ws_frame`, split where it is larger than a WebSocket message may be."""
        if self._ws_frames is None:
            self._ws_frames = events_frames(self.events, self.ws_frame)
        return self._ws_frames

    @property
    def ws_raw_frames(self) -> list[bytes]:
        """`ws_frames` as complete WebSocket frames (header and UTF-8 payload), built once and
        written as they are to every connection that has a direct writer (transports/direct.py)."""
        if self._ws_raw is None:
            self._ws_raw = [text_frame(frame.encode()) for frame in self.ws_frames]
        return self._ws_raw

    @property
    def sse_frame(self) -> str:
        if self._sse_frame is None:
            self._sse_frame = sse_events(self.events)
        return self._sse_frame

    @property
    def changes_access(self) -> bool:
        """Whether live connections must re-check that they may still read the room (the
        domain's rule, `EventRules.changes_access`). Decided once per batch, not per connection."""
        if self._changes_access is None:
            changes_access = event_rules().changes_access
            self._changes_access = any(changes_access(event) for event in self.events)
        return self._changes_access

    @property
    def retracts(self) -> bool:
        """Whether an event of the batch changes what earlier events showed (the domain's rule,
        `EventRules.retracts`): the feed's memory of recent events is then out of date."""
        if self._retracts is None:
            retracts = event_rules().retracts
            self._retracts = any(retracts(event) for event in self.events)
        return self._retracts

    @property
    def sse_bytes(self) -> tuple[bytes, bytes]:
        """`sse_frame` as UTF-8, plain and as one chunk of a chunked response: built once and
        written to every SSE connection that has a direct writer."""
        if self._sse_bytes is None:
            raw = self.sse_frame.encode()
            self._sse_bytes = (raw, http_chunk(raw))
        return self._sse_bytes

    def since(self, cursor: int) -> Batch:
        return Batch([event for event in self.events if event["seq"] > cursor])

    def sampled(self, sampler: RateSampler) -> Batch:
        """This batch for viewers who asked for at most `sampler.rate` danmaku a second: of the
        events the domain lets a viewer skip (`EventRules.may_sample`), those the room's sampler
        for that rate lets through, and every other event. Decided once per batch and rate, so
        such viewers share one filtered batch (and its frames)."""
        if self._sampled is None:
            self._sampled = {}
        filtered = self._sampled.get(sampler.rate)
        if filtered is None:
            may_sample = event_rules().may_sample
            filtered = Batch([e for e in self.events if not may_sample(e) or sampler.admit()])
            self._sampled[sampler.rate] = filtered
        return filtered


class RateSampler:
    """At most `rate` danmaku a second, spread evenly: a token bucket refilled continuously with
    a small burst (a fifth of a second's worth), so under a flood every fifth-of-a-second gets its
    share instead of the first comments of each second taking it all."""

    __slots__ = ("_at", "_tokens", "capacity", "rate")

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate / 5)
        self._tokens = self.capacity
        self._at = time.monotonic()

    def admit(self) -> bool:
        now = time.monotonic()
        self._tokens = min(self.capacity, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False
