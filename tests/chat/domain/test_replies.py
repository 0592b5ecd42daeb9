"""Replies (chat/domain/posting.py `reply_parent`): the parent is a field of the reply's event,
{id, seq, user, excerpt}, computed once when the reply is posted; a parent that is not a visible
message of the same room is refused with `bad_reply`; history says `removed` for a parent a
moderator deleted after the reply (chat/domain/eventlog.py `removed_parents`)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AbstractBaseUser

from chat.domain.eventlog import append_event, events_after, history_before
from chat.domain.moderation.removal import clear_room, delete_event
from chat.domain.moderation.roles import set_role
from chat.domain.posting import REPLY_EXCERPT_CHARS, WriteContext, post_message, submit_frame
from chat.domain.wire import event_to_wire
from chat.errors import ChatError
from chat.models import EventKind, Room, RoomEvent

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]


def posted(room: Room, user: Any, text: str, reply_to: object = None) -> RoomEvent:
    event = post_message(room, user, text, reply_to=reply_to).event
    assert event is not None
    return event


def refused(room: Room, user: Any, reply_to: object) -> ChatError:
    with pytest.raises(ChatError) as info:
        submit_frame(room, user, {"type": "message", "text": "re", "reply_to": reply_to}, WriteContext())
    return info.value


def test_a_reply_carries_its_parent_on_the_wire_and_in_history(
    owned: Room, bob: AbstractBaseUser, carol: AbstractBaseUser
) -> None:
    parent = posted(owned, bob, "what time is the stream?")
    reply = submit_frame(owned, carol, {"type": "message", "text": "at nine", "reply_to": parent.pk}).event
    assert reply is not None
    expected = {
        "id": parent.pk,
        "seq": parent.seq,
        "user": {"id": bob.pk, "name": bob.get_username()},
        "excerpt": "what time is the stream?",
    }
    assert event_to_wire(reply)["reply_to"] == expected
    page, _ = history_before(owned.pk, None, 10)
    assert [event.get("reply_to") for event in page] == [None, expected]
    assert events_after(owned.pk, 0, 10)[1]["reply_to"] == expected
    # A message that is not a reply has no such field.
    assert "reply_to" not in event_to_wire(parent)


def test_the_excerpt_is_bounded(owned: Room, bob: AbstractBaseUser, carol: AbstractBaseUser) -> None:
    parent = posted(owned, bob, "x" * 500)
    excerpt = event_to_wire(posted(owned, carol, "ok", parent.pk))["reply_to"]["excerpt"]
    assert len(excerpt) == REPLY_EXCERPT_CHARS
    assert excerpt.endswith("…")


@pytest.mark.parametrize("reply_to", ["1", 1.5, True, -1, 0, 2**70, [1], {"id": 1}])
def test_a_parent_that_is_not_an_id_is_refused(owned: Room, bob: AbstractBaseUser, reply_to: object) -> None:
    error = refused(owned, bob, reply_to)
    assert (error.code, error.status, error.extra["field"]) == ("bad_reply", 400, "reply_to")
    assert not RoomEvent.objects.filter(kind=EventKind.MESSAGE).exists()


def test_a_parent_elsewhere_unknown_not_a_message_or_removed_is_refused(
    owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser, carol: AbstractBaseUser
) -> None:
    other = Room.objects.create(slug="other", title="Other")
    elsewhere = posted(other, bob, "in another room")
    system = append_event(owned, EventKind.SYSTEM, text="Welcome")
    deleted = posted(owned, bob, "soon gone")
    delete_event(owned, alice, deleted.pk)
    for reply_to in (elsewhere.pk, system.pk, deleted.pk, 10**9):
        error = refused(owned, carol, reply_to)
        assert error.code == "bad_reply", reply_to
    cleared = posted(owned, bob, "before the clear")
    clear_room(owned, alice)
    assert refused(owned, carol, cleared.pk).code == "bad_reply"
    assert not RoomEvent.objects.filter(room=owned, kind=EventKind.MESSAGE, user=carol).exists()


def test_history_says_removed_for_a_parent_deleted_after_the_reply(
    owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser, carol: AbstractBaseUser
) -> None:
    parent = posted(owned, bob, "a secret that gets deleted")
    posted(owned, carol, "replying", parent.pk)
    delete_event(owned, alice, parent.pk)
    page, _ = history_before(owned.pk, None, 10, placeholders_after=0)
    reply = next(event for event in page if event.get("text") == "replying")
    assert reply["reply_to"] == {"id": parent.pk, "seq": parent.seq, "removed": True}
    assert "a secret" not in str(page)
    assert "a secret" not in str(events_after(owned.pk, 0, 20))


def test_a_post_carries_its_authors_role_in_the_room_on_user(
    owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser, carol: AbstractBaseUser
) -> None:
    set_role(owned, alice, "moderator", {"add": "bob"})
    type(carol).objects.filter(pk=carol.pk).update(is_staff=True)
    carol.refresh_from_db()
    dave = type(carol).objects.create_user("dave", password="x")
    owner = event_to_wire(posted(owned, alice, "from the owner"))["user"]
    moderator = event_to_wire(posted(owned, bob, "from a moderator"))["user"]
    staff = event_to_wire(posted(owned, carol, "from staff"))["user"]
    plain = event_to_wire(posted(owned, dave, "from anyone"))
    assert (owner["role"], moderator["role"], staff["role"]) == ("owner", "moderator", "staff")
    assert "role" not in plain["user"]
    assert "user_role" not in plain
    assert "user_role" not in event_to_wire(posted(owned, alice, "again"))
    page, _ = history_before(owned.pk, None, 10)
    assert [event["user"].get("role") for event in page] == ["owner", "moderator", "staff", None, "owner"]
