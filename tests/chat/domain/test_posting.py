"""The write gates of chat/domain/posting.py, in their order: who may post at all, what is posted,
how often, and whether a moderator sees it first; and the writer registry through which every
transport posts (`submit_frame`). Settings change through the domain (`update_settings`, what the
moderation API calls); the API itself is tested in tests/chat/web/test_moderation.py."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.utils import timezone

from chat.domain import posting
from chat.domain.moderation.roles import set_role
from chat.domain.posting import (
    Posted,
    WriteContext,
    post_message,
    register_writer,
    submit_frame,
    writer_types,
)
from chat.domain.room_settings import update_settings
from chat.domain.wire import format_ts
from chat.errors import ChatError
from chat.models import EventKind, HeldMessage, Room, RoomEvent, Sanction

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]


class FixedClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FixedClock:
    """The rate limiter's clock, moved by hand: retry_after is exact."""
    fixed = FixedClock(5000.0)
    monkeypatch.setattr("chat.guards.ratelimit.time", fixed)
    return fixed


def refusal(room: Room, user: Any, text: object, context: WriteContext | None = None) -> ChatError:
    """The error a post is refused with (the test fails if it is accepted)."""
    with pytest.raises(ChatError) as refused:
        post_message(room, user, text, context)
    return refused.value


# --- 1. who may post ----------------------------------------------------------------------


def test_guest_cannot_post(room: Room) -> None:
    with pytest.raises(ChatError) as info:
        post_message(room, AnonymousUser(), "hi")
    assert info.value.code == "login_required"
    assert info.value.status == 401
    assert not RoomEvent.objects.exists()


def test_a_banned_user_is_refused_until_the_ban_is_lifted(owned: Room, bob: AbstractBaseUser) -> None:
    ban = Sanction.objects.create(room=owned, user=bob, kind="ban")
    Sanction.objects.create(room=owned, user=bob, kind="timeout", until=timezone.now() + timedelta(hours=1))
    banned = refusal(owned, bob, "hello")
    assert (banned.code, banned.status, banned.extra["until"]) == ("banned", 403, None)  # a ban wins
    assert not RoomEvent.objects.exists()
    Sanction.objects.filter(pk=ban.pk).update(lifted_at=timezone.now())
    assert refusal(owned, bob, "hello").code == "muted"  # the timeout still runs


def test_a_timed_out_user_is_told_until_when_and_an_expired_timeout_no_longer_mutes(
    owned: Room, bob: AbstractBaseUser
) -> None:
    until = timezone.now() + timedelta(seconds=120)
    timeout = Sanction.objects.create(room=owned, user=bob, kind="timeout", until=until)
    muted = refusal(owned, bob, "let me talk")
    assert (muted.code, muted.status) == ("muted", 403)
    assert muted.extra["until"] == format_ts(until)
    assert 115 <= muted.extra["retry_after"] <= 121
    assert format_ts(until) in muted.message
    Sanction.objects.filter(pk=timeout.pk).update(until=timezone.now() - timedelta(seconds=1))
    post_message(owned, bob, "free again")


def test_a_moderators_only_room_takes_posts_from_its_moderators_only(
    owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser, carol: AbstractBaseUser
) -> None:
    update_settings(owned, alice, {"posting": "moderators"})
    announcements = refusal(owned, carol, "hi")
    assert (announcements.code, announcements.status) == ("moderators_only", 403)
    assert post_message(owned, alice, "from the owner").event is not None
    set_role(owned, alice, "moderator", {"add": "bob"})
    assert post_message(owned, bob, "from a moderator").event is not None
    # The room as the caller loaded it may be stale: the gate reads the current settings.
    stale = Room.objects.get(pk=owned.pk)
    update_settings(owned, alice, {"posting": "open"})
    assert post_message(stale, carol, "open again").event is not None


def test_a_private_room_takes_posts_from_its_members_only(
    owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser, carol: AbstractBaseUser
) -> None:
    update_settings(owned, alice, {"private": True})
    set_role(owned, alice, "member", {"add": "bob"})
    outsider = refusal(owned, carol, "let me in")
    assert (outsider.code, outsider.status) == ("private_room", 403)
    assert post_message(owned, bob, "a member").event is not None
    assert post_message(owned, alice, "the owner").event is not None
    texts = RoomEvent.objects.filter(kind=EventKind.MESSAGE).order_by("seq").values_list("text", flat=True)
    assert list(texts) == [
        "a member",
        "the owner",
    ]


@pytest.mark.parametrize(
    ("who", "text", "code"),
    [
        ("guest", "   ", "login_required"),
        ("banned", "x" * 501, "banned"),
        ("outsider", "", "private_room"),
    ],
)
def test_who_may_post_is_checked_before_what_is_posted(
    owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser, who: str, text: str, code: str
) -> None:
    users = {"guest": AnonymousUser(), "banned": bob, "outsider": bob}
    if who == "banned":
        Sanction.objects.create(room=owned, user=bob, kind="ban")
    if who == "outsider":
        update_settings(owned, alice, {"private": True})
    assert refusal(owned, users[who], text).code == code


# --- 2. what is posted --------------------------------------------------------------------


def test_empty_or_too_long_text_is_refused_and_nothing_is_written(
    room: Room, alice: AbstractBaseUser
) -> None:
    assert refusal(room, alice, " \u0000\n ").code == "empty"
    too_long = refusal(room, alice, "x" * 501)
    assert (too_long.code, too_long.status, too_long.extra["limit"]) == ("too_long", 413, 500)
    assert refusal(room, alice, 42).code == "invalid"
    assert not RoomEvent.objects.exists()
    assert post_message(room, alice, "x" * 500).event is not None  # the limit itself is allowed


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ({"type": "shout", "text": "hi"}, "unknown_type"),
        ({"text": "hi"}, "unknown_type"),  # no type, and no default for this transport
        ({"type": ["message"], "text": "hi"}, "unknown_type"),
        ({"type": "message"}, "invalid"),
        ({"type": "message", "text": None}, "invalid"),
    ],
)
def test_a_frame_the_writers_cannot_take_is_refused(
    room: Room, alice: AbstractBaseUser, frame: dict[str, object], code: str
) -> None:
    with pytest.raises(ChatError) as refused:
        submit_frame(room, alice, frame)
    assert refused.value.code == code
    if code == "unknown_type":
        assert refused.value.message == "type must be one of: danmaku, message."
    assert not RoomEvent.objects.exists()


# --- 3. how often -------------------------------------------------------------------------


def test_a_user_posting_too_fast_is_refused_until_retry_after(
    owned: Room, bob: AbstractBaseUser, carol: AbstractBaseUser, settings: Any, clock: FixedClock
) -> None:
    settings.CHAT_MESSAGE_RATE = "2/60"
    post_message(owned, bob, "one")
    post_message(owned, bob, "two")
    limited = refusal(owned, bob, "three")
    assert (limited.code, limited.status, limited.retry_after) == ("rate_limited", 429, 30)
    assert limited.message == "You are posting too fast. Try again in 30 s."
    post_message(owned, carol, "someone else")  # per user
    clock.now += 29
    assert refusal(owned, bob, "three").code == "rate_limited"
    clock.now += 1
    assert post_message(owned, bob, "three").event is not None


def test_flood_rules(owned: Room, bob: AbstractBaseUser, carol: AbstractBaseUser, settings: Any) -> None:
    settings.CHAT_DUPLICATE_SECONDS = 30
    post_message(owned, bob, "same thing")
    with pytest.raises(ChatError) as duplicate:
        post_message(owned, bob, "Same Thing")
    assert (duplicate.value.code, duplicate.value.status) == ("duplicate", 429)
    post_message(owned, carol, "same thing")  # another user may say it
    settings.CHAT_MESSAGE_RATE_IP = "3/60"
    office = WriteContext(ip="203.0.113.9")
    post_message(owned, bob, "a", office)
    post_message(owned, carol, "b", office)
    post_message(owned, bob, "c", office)
    with pytest.raises(ChatError) as per_ip:
        post_message(owned, carol, "d", office)
    assert per_ip.value.code == "rate_limited"
    post_message(owned, carol, "from home", WriteContext(ip="198.51.100.7"))


def test_the_same_text_may_be_posted_again_once_its_seconds_are_over(
    owned: Room, bob: AbstractBaseUser, settings: Any, clock: FixedClock
) -> None:
    settings.CHAT_DUPLICATE_SECONDS = 30
    post_message(owned, bob, "again and again")
    clock.now += 29
    duplicate = refusal(owned, bob, "AGAIN and again")
    assert (duplicate.code, duplicate.retry_after) == ("duplicate", 1)
    clock.now += 1
    assert post_message(owned, bob, "again and again").event is not None


def test_slow_mode_spaces_a_users_posts_and_spares_moderators(
    owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser, carol: AbstractBaseUser
) -> None:
    update_settings(owned, alice, {"slow_mode_seconds": 30})
    post_message(owned, bob, "one")
    with pytest.raises(ChatError) as slow:
        post_message(owned, bob, "two")
    assert slow.value.code == "slow_mode"
    assert 25 <= slow.value.extra["retry_after"] <= 30
    assert slow.value.message.startswith("Slow mode: one message every 30 s.")
    post_message(owned, carol, "each user has their own pace")
    post_message(owned, alice, "owner one")
    post_message(owned, alice, "owner two")  # moderators are exempt


def test_a_refused_post_uses_no_limit_and_is_not_already_posted(
    owned: Room,
    alice: AbstractBaseUser,
    bob: AbstractBaseUser,
    settings: Any,
    clock: FixedClock,
) -> None:
    """A post refused by slow mode counts against no limit: the same text goes through once slow
    mode allows it (it is not "already posted"); and a blocked text is refused as blocked again,
    not as a duplicate."""
    settings.CHAT_DUPLICATE_SECONDS = 30
    settings.CHAT_MESSAGE_RATE = "3/60"
    update_settings(owned, alice, {"slow_mode_seconds": 10, "blocked_words": ["forbidden"]})
    post_message(owned, bob, "first")
    clock.now += 1
    for _ in range(5):  # refused each time, and not counted against bob's 3 a minute
        with pytest.raises(ChatError) as slow:
            post_message(owned, bob, "second")
        assert (slow.value.code, slow.value.extra["retry_after"]) == ("slow_mode", 9)
    clock.now += 9
    assert post_message(owned, bob, "second").event is not None
    clock.now += 10
    for _ in range(2):
        with pytest.raises(ChatError) as blocked:
            post_message(owned, bob, "something forbidden")
        assert blocked.value.code == "blocked"
        clock.now += 10
    assert post_message(owned, bob, "third").event is not None  # bob's third of the minute


def test_a_post_refused_before_the_limits_counts_against_none(
    owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser, settings: Any, clock: FixedClock
) -> None:
    settings.CHAT_MESSAGE_RATE = "1/60"
    settings.CHAT_DUPLICATE_SECONDS = 30
    for text in ["", "x" * 501, 7]:  # what is posted: refused before any limit is claimed
        refusal(owned, bob, text)
    Sanction.objects.create(room=owned, user=bob, kind="timeout", until=timezone.now() + timedelta(hours=1))
    for _ in range(3):  # who may post: the same
        assert refusal(owned, bob, "hello").code == "muted"
    Sanction.objects.filter(user=bob).update(lifted_at=timezone.now())
    assert post_message(owned, bob, "hello").event is not None  # not a duplicate, not too fast
    assert refusal(owned, bob, "hello again").code == "rate_limited"  # the one a minute is used now


def test_a_blocked_post_counts_against_the_rates(
    owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser, settings: Any, clock: FixedClock
) -> None:
    """An attempt, as flood protection should see it (docs/PROTOCOL.md, Flood protection)."""
    settings.CHAT_MESSAGE_RATE = "2/60"
    update_settings(owned, alice, {"blocked_words": ["forbidden"]})
    for _ in range(2):
        assert refusal(owned, bob, "forbidden fruit").code == "blocked"
    assert refusal(owned, bob, "fine words").code == "rate_limited"


# --- 4. whether a moderator sees it first --------------------------------------------------


def test_blocked_words_refuse_or_hold(owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser) -> None:
    update_settings(owned, alice, {"blocked_words": ["Spoiler", "/b[a4]d\\s*word/"]})
    for text in ["big SPOILER here", "a b4d  word"]:
        with pytest.raises(ChatError) as blocked:
            post_message(owned, bob, text)
        assert blocked.value.code == "blocked"
    post_message(owned, bob, "fine text")
    post_message(owned, alice, "a spoiler from a moderator")  # moderators are never blocked
    update_settings(owned, alice, {"blocked_action": "hold"})
    last_seq = Room.objects.get(pk=owned.pk).last_seq
    held = post_message(owned, bob, "spoiler: it was a dream")
    assert held.event is None
    assert held.held is not None
    assert held.ack("n1") == {
        "type": "ack",
        "nonce": "n1",
        "seq": None,
        "id": None,
        "held": True,
        "held_id": held.held.pk,
        "message": "A moderator will review your message before it appears.",
    }
    stored = HeldMessage.objects.get(pk=held.held.pk)
    assert (stored.text, stored.reason, stored.user_id) == ("spoiler: it was a dream", "blocked_word", bob.pk)
    assert stored.decision == HeldMessage.Decision.PENDING
    assert Room.objects.get(pk=owned.pk).last_seq == last_seq  # nothing reached the room


def test_review_holds_everyone_or_new_accounts_but_never_moderators(
    owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser, carol: AbstractBaseUser
) -> None:
    update_settings(owned, alice, {"review": "all"})
    pending = post_message(owned, carol, "please approve")
    assert pending.held is not None
    assert pending.held.reason == HeldMessage.Reason.REVIEW_ALL
    assert post_message(owned, alice, "moderators are never held").event is not None
    update_settings(owned, alice, {"review": "new_accounts", "review_account_age_hours": 24})
    get_user_model().objects.filter(pk=bob.pk).update(date_joined=timezone.now() - timedelta(days=3))
    bob.refresh_from_db()
    assert post_message(owned, bob, "old account").event is not None
    new = post_message(owned, carol, "new account")
    assert new.held is not None
    assert new.held.reason == HeldMessage.Reason.NEW_ACCOUNT
    texts = RoomEvent.objects.filter(kind=EventKind.MESSAGE).order_by("seq").values_list("text", flat=True)
    assert list(texts) == [
        "moderators are never held",
        "old account",
    ]


def test_a_published_post_is_acked_with_its_seq_and_id(room: Room, alice: AbstractBaseUser) -> None:
    posted = post_message(room, alice, "hi")
    assert posted.event is not None
    assert posted.ack({"mine": 1}) == {"type": "ack", "nonce": {"mine": 1}, "seq": 1, "id": posted.event.pk}


# --- the writer registry -------------------------------------------------------------------


def test_every_transport_posts_through_the_registered_writers(room: Room, alice: AbstractBaseUser) -> None:
    assert writer_types() == ["danmaku", "message"]  # chat's own, and the danmaku app's
    message = submit_frame(room, alice, {"type": "message", "text": "over a socket"})
    assert message.event is not None
    assert (message.event.kind, message.event.text) == ("message", "over a socket")
    # HTTP posting names no type: the endpoint says which it takes; a frame's own type wins.
    untyped = submit_frame(room, alice, {"text": "over http"}, default_type="message")
    assert untyped.event is not None
    assert untyped.event.kind == "message"
    comment = submit_frame(room, alice, {"type": "danmaku", "text": "on the video"}, default_type="message")
    assert comment.event is not None
    assert comment.event.kind == "danmaku"
    assert list(RoomEvent.objects.order_by("seq").values_list("seq", flat=True)) == [1, 2, 3]


def test_a_registered_writer_gets_the_frame_and_where_it_came_from(
    room: Room, alice: AbstractBaseUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(posting, "_writers", dict(posting._writers))  # registrations end with the test
    calls: list[tuple[Room, Any, dict[str, object], WriteContext]] = []
    shouted = Posted()

    def shout(room: Room, user: Any, frame: dict[str, object], context: WriteContext) -> Posted:
        calls.append((room, user, frame, context))
        return shouted

    register_writer("shout", shout)
    assert writer_types() == ["danmaku", "message", "shout"]
    frame: dict[str, object] = {"type": "shout", "text": "HEY"}
    assert submit_frame(room, alice, frame, WriteContext(ip="203.0.113.9")) is shouted
    assert submit_frame(room, alice, {"text": "hey"}, default_type="shout") is shouted
    assert calls[0] == (room, alice, frame, WriteContext(ip="203.0.113.9"))
    assert calls[1][3] == WriteContext()  # no context: no address
    with pytest.raises(ChatError) as unknown:
        submit_frame(room, alice, {"type": "whisper"})
    assert unknown.value.message == "type must be one of: danmaku, message, shout."
