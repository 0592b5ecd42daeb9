"""A dry run of blocked words on the settings panel: what a list of words and /patterns/ would
have caught among the room's recent messages, before it is saved. The same checks as saving
(`clean_blocked_words`) and the same matcher as posting (`room_matcher`, RE2): one pass of the
combined program per message, then each entry only against the messages that matched."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from chat.domain.access import require_moderator
from chat.domain.blocked_words import clean_blocked_words, is_pattern, room_matcher
from chat.domain.eventlog import in_log
from chat.domain.patterns import compile_re2, to_re2
from chat.domain.wire import format_ts
from chat.errors import rate_limited
from chat.guards.ratelimit import hit, parse_rate
from chat.models import EventKind, Room, RoomEvent
from chat.types import AnyUser

# The recent history a dry run reads (the "last 1,000 messages"), and the caught
# messages it lists (it counts them all).
DRY_RUN_MESSAGES = 1000
DRY_RUN_LISTED = 100


def dry_run_blocked_words(room: Room, actor: AnyUser, words: object) -> dict[str, Any]:
    """`{"checked", "caught", "messages": [{"id", "seq", "kind", "user", "text", "ts", "entries"}]}`,
    newest first; ChatError `invalid` (as saving would answer) for a list that cannot be saved."""
    require_moderator(actor, room)
    entries = clean_blocked_words(words)
    retry_after = hit(f"dryrun:user:{actor.pk}", parse_rate(settings.CHAT_DRY_RUN_RATE))
    if retry_after is not None:
        raise rate_limited(_("Too many dry runs."), retry_after)
    words = [entry for entry in entries if not is_pattern(entry)]
    patterns = tuple(entry for entry in entries if is_pattern(entry))
    combined = room_matcher(room.slug, patterns) if patterns else None
    rows = list(
        RoomEvent.objects.filter(
            in_log(room.pk), kind__in=(EventKind.MESSAGE, EventKind.DANMAKU), deleted_at=None
        )
        .order_by("-seq")
        .values_list("pk", "seq", "kind", "user_name", "text", "created_at")[:DRY_RUN_MESSAGES]
    )
    each: dict[str, Any] = {}
    caught: list[dict[str, Any]] = []
    total = 0
    for pk, seq, kind, user_name, text, created_at in rows:
        folded = text.casefold()
        hit_plain = [word for word in words if word.casefold() in folded]
        if not hit_plain and (combined is None or combined.search(text) is None):
            continue
        total += 1
        if len(caught) >= DRY_RUN_LISTED:
            continue
        matched = hit_plain + [entry for entry in patterns if _entry_matcher(each, entry).search(text)]
        caught.append(
            {
                "id": pk,
                "seq": seq,
                "kind": kind,
                "user": user_name or None,
                "text": text,
                "ts": format_ts(created_at),
                "entries": matched,
            }
        )
    return {"checked": len(rows), "caught": total, "messages": caught}


def _entry_matcher(cache: dict[str, Any], entry: str) -> Any:
    """One /pattern/ by itself (to say which entry caught a message), compiled once per run."""
    if entry not in cache:
        cache[entry] = compile_re2(to_re2(entry[1:-1]))
    return cache[entry]
