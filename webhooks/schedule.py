"""When the next attempt is due: the schedule with jitter, or what the receiver asked for."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from django.conf import settings

JITTER = 0.2  # +-20%: receivers that failed together are not all retried in the same second
RETRY_AFTER_MAX_SECONDS = 24 * 3600  # a receiver may ask to wait, but not past a day
THROTTLING_STATUSES = frozenset({429, 503})


def schedule() -> list[float]:
    """Seconds to wait before each attempt; the first is the first attempt's (0: at once)."""
    return list(settings.WEBHOOK_SCHEDULE)


def attempts_allowed() -> int:
    return len(schedule())


def retry_delay(
    attempts_made: int, status: int | None, retry_after: str | None, now: datetime
) -> float | None:
    """Seconds until attempt `attempts_made + 1`, or None when the schedule has run out."""
    delays = schedule()
    if attempts_made >= len(delays):
        return None
    delay = delays[attempts_made] * random.uniform(1 - JITTER, 1 + JITTER)
    if status in THROTTLING_STATUSES and retry_after:
        asked = parse_retry_after(retry_after, now)
        if asked is not None:
            delay = asked
    return delay


def parse_retry_after(value: str, now: datetime) -> float | None:
    """`Retry-After`: seconds, or an HTTP date (RFC 9110 10.2.3); None if it is neither."""
    value = value.strip()
    if value.isdigit():
        return float(min(int(value), RETRY_AFTER_MAX_SECONDS))
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, min((moment - now).total_seconds(), RETRY_AFTER_MAX_SECONDS))
