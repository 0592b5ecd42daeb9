"""Moderation through its API (chat/web/moderation.py): every action and its event on every
transport; refusals change nothing; the review queue; blocked-word patterns that cannot stall the
write path, and those refused because the server's or the browser's engine cannot run them;
private rooms leak nothing to non-members. The write gates these settings drive
(sanctions, posting mode, slow mode, blocked words, review, floods) are tested in
tests/chat/domain/test_posting.py."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client

from chat.domain.bots import mark_bot
from chat.domain.moderation.roles import set_role
from chat.domain.posting import post_message
from chat.domain.room_settings import update_settings
from chat.errors import ChatError
from chat.models import AuditEntry, HeldMessage, Room, RoomEvent, RoomRole, Sanction
from chat.realtime.hub import Hub
from tests.chat.asgi_clients import SseStream, asgi_get, connect, session_cookie

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]


def api(client: Client, path: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(
        f"/rooms/lobby/mod/{path}", data=json.dumps(body or {}), content_type="application/json"
    )


def as_user(user: AbstractBaseUser | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def snapshot(room: Room) -> tuple[Any, ...]:
    """Everything moderation can change, to prove a refused attempt changed nothing."""
    fresh = Room.objects.get(pk=room.pk)
    return (
        fresh.last_seq,
        tuple(
            Room.objects.filter(pk=room.pk).values_list(
                "private", "posting", "slow_mode_seconds", "blocked_words"
            )
        ),
        tuple(RoomEvent.objects.filter(room=room).values_list("pk", "deleted_at")),
        tuple(Sanction.objects.filter(room=room).values_list("pk", "lifted_at")),
        tuple(RoomRole.objects.filter(room=room).values_list("pk")),
        tuple(HeldMessage.objects.filter(room=room).values_list("pk", "decision")),
        AuditEntry.objects.filter(room=room).count(),
    )


ACTIONS: list[tuple[str, dict[str, Any]]] = [
    ("delete", {"id": 1}),
    ("clear", {}),
    ("timeout", {"user": "carol", "seconds": 60}),
    ("ban", {"user": "carol"}),
    ("unban", {"user": "carol"}),
    ("settings", {"slow_mode_seconds": 5}),
    ("moderators", {"add": "bob"}),
    ("members", {"add": "bob"}),
    ("review/1", {"approve": True}),
]


@pytest.mark.parametrize(("path", "body"), ACTIONS)
def test_non_moderators_are_refused_and_nothing_changes(
    owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser, carol: AbstractBaseUser, path: str, body: Any
) -> None:
    post_message(owned, carol, "a message")
    Sanction.objects.create(room=owned, user=carol, kind="ban")
    HeldMessage.objects.create(room=owned, user=carol, kind="message", text="held", reason="review_all")
    before = snapshot(owned)
    guest = api(as_user(None), path, body)
    assert (guest.status_code, guest.json()["code"]) == (401, "login_required")
    refused = api(as_user(bob), path, body)
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    assert snapshot(owned) == before
    for read in ("review", "audit", "state", "stats"):
        assert as_user(bob).get(f"/rooms/lobby/mod/{read}").status_code == 403
    assert as_user(bob).get("/rooms/lobby/moderate").status_code == 403


def test_delete_clear_and_their_audit(owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser) -> None:
    mod = as_user(alice)
    first = post_message(owned, bob, "first").event
    second = post_message(owned, bob, "second").event
    answer = api(mod, "delete", {"id": first.pk, "reason": "spam"})
    assert answer.status_code == 200
    assert answer.json()["kind"] == "delete"
    event = RoomEvent.objects.get(pk=answer.json()["id"])
    assert event.user is None  # moderators are not named on the wire
    assert event.data["placeholder"] is True  # the room's default: "removed by a moderator"
    history = mod.get("/rooms/lobby/history").json()["events"]
    assert [(e["id"], e["text"], e.get("deleted")) for e in history] == [
        (first.pk, "", True),
        (second.pk, "second", None),
    ]
    assert history[0]["user"] is None
    cleared = api(mod, "clear", {"reason": "reset"})
    assert cleared.json()["kind"] == "clear"
    # What the clear removed leaves no placeholders, only the system line the clear left.
    after_clear = mod.get("/rooms/lobby/history").json()["events"]
    assert [(e["kind"], e["text"], e["seq"]) for e in after_clear] == [
        ("system", "The chat was cleared by a moderator.", cleared.json()["seq"] + 1)
    ]
    assert RoomEvent.objects.get(pk=second.pk).deleted_at is not None
    entries = mod.get("/rooms/lobby/mod/audit").json()["entries"]
    assert [(e["action"], e["actor"], e["reason"]) for e in entries] == [
        ("clear", "alice", "reset"),
        ("delete", "alice", "spam"),
    ]
    assert entries[1]["target"] == "bob"
    assert entries[1]["target_event"] == first.pk


def test_timeout_ban_and_lift(owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser) -> None:
    mod = as_user(alice)
    for bad in [
        {"user": "bob", "seconds": 5},
        {"user": "bob", "seconds": 86401},
        {"user": "bob", "seconds": "60"},
    ]:
        assert api(mod, "timeout", bad).json()["code"] == "invalid"
    assert api(mod, "timeout", {"user": "nobody", "seconds": 60}).status_code == 404
    assert api(mod, "timeout", {"user": "alice", "seconds": 60}).json()["code"] == "forbidden"
    answer = api(mod, "timeout", {"user": "bob", "seconds": 600, "reason": "calm down"})
    assert answer.json()["kind"] == "ban"
    with pytest.raises(ChatError) as muted:
        post_message(owned, bob, "let me talk")
    assert muted.value.code == "muted"
    assert muted.value.status == 403
    assert muted.value.extra["until"].endswith("Z")
    assert "until" in muted.value.message
    state = mod.get("/rooms/lobby/mod/state").json()
    assert state["sanctions"][0]["user"] == "bob"
    assert state["sanctions"][0]["kind"] == "timeout"
    assert api(mod, "unban", {"user": "bob"}).json()["kind"] == "unban"
    post_message(owned, bob, "thanks")
    assert api(mod, "unban", {"user": "bob"}).status_code == 404  # nothing left to lift
    api(mod, "ban", {"user": "bob"})
    with pytest.raises(ChatError) as banned:
        post_message(owned, bob, "again")
    assert banned.value.code == "banned"
    api(mod, "unban", {"user": "bob"})
    actions = [e["action"] for e in mod.get("/rooms/lobby/mod/audit").json()["entries"]]
    assert actions == ["unban", "ban", "unban", "timeout"]


def test_settings_slow_mode_posting_mode_and_moderators(
    owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser, carol: AbstractBaseUser
) -> None:
    mod = as_user(alice)
    for bad in [
        {"slow_mode_seconds": -1},
        {"posting": "everyone"},
        {"colour": 1},
        {"blocked_words": ["/([/"]},
    ]:
        assert api(mod, "settings", bad).json()["code"] == "invalid", bad
    answer = api(mod, "settings", {"slow_mode_seconds": 30})
    assert answer.json()["kind"] == "settings"
    assert answer.json()["settings"]["slow_mode_seconds"] == 30
    event = RoomEvent.objects.get(pk=answer.json()["id"])
    assert event.data == {
        "settings": {
            "private": False,
            "posting": "open",
            "slow_mode_seconds": 30,
            "removed_display": "placeholder",
            "unique_chat": False,
            "unique_chat_seconds": 30,
            "chat_delay_seconds": 0,
        }
    }
    assert Room.objects.get(pk=owned.pk).slow_mode_seconds == 30  # what the gates read (test_posting)
    api(mod, "settings", {"posting": "moderators", "slow_mode_seconds": 0})
    assert Room.objects.get(pk=owned.pk).posting == "moderators"
    # The owner appoints bob; as a moderator he may post and act.
    state = api(mod, "moderators", {"add": "bob"}).json()
    assert state["moderators"] == ["bob"]
    post_message(owned, bob, "now a moderator")
    assert api(as_user(bob), "ban", {"user": "carol"}).status_code == 200
    assert api(as_user(bob), "moderators", {"add": "carol"}).json()["code"] == "forbidden"  # owner only
    assert api(mod, "moderators", {"remove": "bob"}).json()["moderators"] == []
    assert api(as_user(bob), "unban", {"user": "carol"}).status_code == 403


def test_the_review_queue_lists_approves_and_rejects_held_messages(
    owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser, carol: AbstractBaseUser
) -> None:
    """What is held, and why, is tested with the write gates (tests/chat/domain/test_posting.py)."""
    mod = as_user(alice)
    api(mod, "settings", {"blocked_words": ["Spoiler", "/b[a4]d\\s*word/"], "blocked_action": "hold"})
    held = post_message(owned, bob, "spoiler: it was a dream")
    assert held.held is not None
    queue = mod.get("/rooms/lobby/mod/review").json()["held"]
    assert [(h["text"], h["reason"], h["user"]["name"]) for h in queue] == [
        ("spoiler: it was a dream", "blocked_word", "bob")
    ]
    last_seq = Room.objects.get(pk=owned.pk).last_seq
    approved = mod.post(
        f"/rooms/lobby/mod/review/{queue[0]['id']}",
        data=json.dumps({"approve": True}),
        content_type="application/json",
    ).json()
    assert approved["seq"] == last_seq + 1  # published now, with a new seq
    assert RoomEvent.objects.get(pk=approved["id"]).user_name == "bob"
    again = mod.post(
        f"/rooms/lobby/mod/review/{queue[0]['id']}",
        data=json.dumps({"approve": False}),
        content_type="application/json",
    )
    assert again.json()["code"] == "already_decided"
    api(mod, "settings", {"blocked_words": [], "review": "all"})
    pending = post_message(owned, carol, "please approve")
    assert pending.held is not None
    rejected = mod.post(
        f"/rooms/lobby/mod/review/{pending.held.pk}",
        data=json.dumps({"approve": False}),
        content_type="application/json",
    )
    assert rejected.json()["rejected"] is True
    assert rejected.json()["kind"] == "review"
    review = RoomEvent.objects.get(pk=rejected.json()["id"])
    # The log names the held id only its author knows, never the author or the text.
    assert (review.user, review.text, review.data) == (
        None, "", {"held_id": pending.held.pk, "decision": "rejected"}
    )  # fmt: skip
    assert not RoomEvent.objects.filter(text="please approve").exists()
    assert mod.get("/rooms/lobby/mod/review").json()["held"] == []
    actions = [e["action"] for e in mod.get("/rooms/lobby/mod/audit").json()["entries"]]
    assert actions.count("approve") == 1
    assert actions.count("reject") == 1


def test_the_review_queue_says_which_held_messages_are_a_bots(
    owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser, carol: AbstractBaseUser
) -> None:
    mod = as_user(alice)
    api(mod, "settings", {"review": "all"})
    mark_bot(bob)
    post_message(owned, bob, "beep")
    post_message(owned, carol, "hello")
    queue = mod.get("/rooms/lobby/mod/review").json()["held"]
    assert [h["user"] for h in queue] == [
        {"id": bob.pk, "name": "bob", "bot": True},
        {"id": carol.pk, "name": "carol"},
    ]


def test_patterns_that_backtracked_without_end_are_now_harmless(
    owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    """/(a|aa)+$/ on a long run of a's backtracked for longer than the universe has left, on the
    thread every write of the process waits for. RE2's time is linear in the message, so such a
    pattern is accepted, matches what it says, and lets other messages through at once."""
    mod = as_user(alice)
    answer = api(mod, "settings", {"blocked_words": ["/(a|aa)+$/", "/(?:xy|x|y)+$/", "later"]})
    assert answer.status_code == 200, answer.json()
    api(mod, "settings", {"blocked_action": "hold"})
    started = time.perf_counter()
    for text in ["a" * 499 + "!", "xy" * 249 + "z"]:
        assert post_message(owned, bob, text).event is not None
    assert time.perf_counter() - started < 1
    assert post_message(owned, bob, "aaaa").held is not None  # the pattern matches it
    assert post_message(owned, bob, "xyxy").held is not None
    assert post_message(owned, bob, "see you later").held is not None
    api(mod, "settings", {"blocked_action": "refuse"})
    with pytest.raises(ChatError) as refused:
        post_message(owned, bob, "AAA")
    assert refused.value.code == "blocked"


def test_patterns_one_engine_cannot_run_are_refused_by_name(
    owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser, caplog: pytest.LogCaptureFixture
) -> None:
    """The server matches with RE2 and browsers with RegExp: a pattern either refuses, or reads
    differently, is refused with a sentence naming it. One stored before these rules matches
    nothing (a warning names it); it never fails a post."""
    mod = as_user(alice)
    refusals = {
        "/(?<=x)y/": "/(?<=x)y/ cannot be used: lookahead and lookbehind",
        "/(a)\\1/": "/(a)\\1/ cannot be used: backreferences",
        "/(?P<name>x)/": "/(?P<name>x)/ cannot be used: named groups",
        "/\\p{Greek}/": "/\\p{Greek}/ cannot be used: Unicode property classes",
        "/[[:alpha:]]/": "/[[:alpha:]]/ cannot be used: a [ inside [...] must be written \\[",
        "/(?:a{100}){11}/": "/(?:a{100}){11}/ cannot be used: its nested repetitions",
        "/x*/": "/x*/ cannot be used: it matches empty text",
    }
    for pattern, message in refusals.items():
        answer = api(mod, "settings", {"blocked_words": ["fine", pattern]})
        assert answer.status_code == 400, pattern
        assert (answer.json()["code"], answer.json()["field"]) == ("invalid", "blocked_words")
        assert answer.json()["message"].startswith(message), answer.json()["message"]
    assert Room.objects.get(pk=owned.pk).blocked_words == []
    ok = api(mod, "settings", {"blocked_words": ["/\\d{3}-\\d{4}/", "/(?:ab{10}){10}/"]})
    assert ok.status_code == 200, ok.json()
    with pytest.raises(ChatError) as blocked:
        post_message(owned, bob, "call 555-1234")
    assert blocked.value.code == "blocked"
    owned.blocked_words = ["/(\\w{9999}){9999}/", "/(?=x)x/", "spoiler"]
    owned.save(update_fields=["blocked_words"])
    with caplog.at_level(logging.WARNING, logger="chat.domain.blocked_words"):
        assert post_message(owned, bob, "w" * 400 + " x").event is not None
    assert "/(?=x)x/ cannot be used" in caplog.text
    with pytest.raises(ChatError):
        post_message(owned, bob, "a spoiler")


async def test_actions_reach_websocket_and_sse_viewers_at_once(
    hub: Hub, owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    viewer = await connect("/ws/rooms/lobby/?after=0", bob)
    await viewer.next_frame("hello")
    sse = await SseStream("/rooms/lobby/events?after=0").open()
    writer = await connect("/ws/rooms/lobby/?after=0", bob)
    await writer.next_frame("hello")
    ack = await writer.send({"type": "message", "text": "to be deleted", "nonce": 1})
    mod = await database_sync_to_async(as_user)(alice)
    calls = [
        ("delete", {"id": ack["id"]}),
        ("timeout", {"user": "bob", "seconds": 60, "reason": "r"}),
        ("unban", {"user": "bob"}),
        ("settings", {"slow_mode_seconds": 3}),
        ("clear", {}),
    ]
    for path, body in calls:
        answer = await database_sync_to_async(api)(mod, path, body)
        assert answer.status_code == 200, answer.content
    kinds = ["message", "delete", "ban", "unban", "settings", "clear", "system"]  # a clear leaves a line
    over_ws = await viewer.receive_events(7)
    over_sse = await sse.events_until(7)
    assert [e["kind"] for e in over_ws] == [e["sse_event"] for e in over_sse] == kinds
    assert over_ws[1]["target"] == ack["id"]
    assert over_ws[2]["user"]["name"] == "bob"
    assert over_ws[2]["sanction"] == "timeout"
    assert over_ws[2]["until"].endswith("Z")
    assert over_ws[4]["settings"]["slow_mode_seconds"] == 3
    _, _, poll = await asgi_get("/rooms/lobby/poll?after=0&timeout=1")
    assert [e["kind"] for e in poll["events"]] == ["message", *kinds[1:]]
    await viewer.disconnect()
    await writer.disconnect()
    await sse.close()


async def test_muted_user_is_told_why_on_every_write_path(
    hub: Hub, owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    await database_sync_to_async(lambda: api(as_user(alice), "timeout", {"user": "bob", "seconds": 300}))()
    ws = await connect("/ws/rooms/lobby/", bob)
    await ws.next_frame("hello")
    for frame in ({"type": "message", "text": "hi"}, {"type": "danmaku", "text": "hi"}):
        error = await ws.send({**frame, "nonce": "m"})
        assert error["code"] == "muted"
        assert error["until"].endswith("Z")
    await ws.disconnect()
    http = await database_sync_to_async(
        lambda: as_user(bob).post(
            "/rooms/lobby/messages", data='{"text": "hi"}', content_type="application/json"
        )
    )()
    assert (http.status_code, http.json()["code"]) == (403, "muted")
    dplayer = await database_sync_to_async(
        lambda: as_user(bob).post(
            "/dplayer/v3/", data='{"id": "lobby", "text": "hi", "type": 0}', content_type="application/json"
        )
    )()
    assert (dplayer.status_code, dplayer.json()["error"]) == (403, "muted")


async def test_private_room_leaks_nothing_to_non_members(
    hub: Hub, owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser, carol: AbstractBaseUser
) -> None:
    await database_sync_to_async(post_message)(owned, alice, "members only")
    await database_sync_to_async(update_settings)(owned, alice, {"private": True})
    await database_sync_to_async(set_role)(owned, alice, "member", {"add": "bob"})

    def http_reads(user: AbstractBaseUser | None) -> dict[str, int]:
        client = as_user(user)
        paths = {
            "page": "/rooms/lobby/",
            "history": "/rooms/lobby/history",
            "window": "/rooms/lobby/danmaku",
            "xml": "/rooms/lobby/danmaku.xml",
            "dplayer": "/dplayer/v3/?id=lobby",
            "watch": "/rooms/lobby/watch",
            "overlay": "/rooms/lobby/overlay",
        }
        return {name: client.get(path).status_code for name, path in paths.items()}

    outsider = await database_sync_to_async(http_reads)(carol)
    assert outsider == {name: 403 for name in outsider}, outsider
    guest = await database_sync_to_async(http_reads)(None)
    pages = {"page", "watch"}  # a guest is sent to the login page
    assert guest == {name: 302 if name in pages else 403 for name in guest}, guest
    member = await database_sync_to_async(lambda: as_user(bob).get("/rooms/lobby/history"))()
    assert [e["text"] for e in member.json()["events"]] == ["members only"]
    home = await database_sync_to_async(lambda: as_user(carol).get("/").content.decode())()
    assert "/rooms/lobby/" not in home

    cookie = await database_sync_to_async(session_cookie)(carol)
    for url in ("/rooms/lobby/events?after=0", "/rooms/lobby/poll?after=0&timeout=1"):
        status, _, body = await asgi_get(url, cookie)
        assert (status, body["code"]) == (403, "private_room"), url
        assert "members only" not in json.dumps(body)
    from channels.testing import WebsocketCommunicator

    from config.asgi import application

    comm = WebsocketCommunicator(
        application,
        "/ws/rooms/lobby/?after=0",
        headers=[(b"host", b"testserver"), (b"origin", b"http://testserver"), *cookie],
    )
    connected, _ = await comm.connect(timeout=5)
    assert connected
    refusal = json.loads(await comm.receive_from(timeout=5))
    assert (refusal["type"], refusal["code"]) == ("error", "private_room")
    closed = await comm.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": 4403}

    # A member reads; removed while watching, the streams end.
    bob_cookie = await database_sync_to_async(session_cookie)(bob)
    member_sse = await SseStream("/rooms/lobby/events?after=0", bob_cookie).open()
    assert member_sse.status == 200
    member_ws = await connect("/ws/rooms/lobby/?after=0", bob)
    await member_ws.next_frame("hello")
    backlog = await member_ws.receive_events(2)
    assert [e["kind"] for e in backlog] == ["message", "settings"]
    assert backlog[0]["text"] == "members only"
    await database_sync_to_async(set_role)(owned, alice, "member", {"remove": "bob"})
    error = await member_ws.next_frame("error")
    assert error["code"] == "private_room"
    assert (await member_ws.comm.receive_output(timeout=5))["code"] == 4403
    blocks = await member_sse.blocks_until(lambda b: any(x.get("event") == "refused" for x in b))
    assert json.loads(blocks[-1]["data"])["code"] == "private_room"
    await member_sse.close()


def test_stats_and_state(owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser) -> None:
    for n in range(3):
        post_message(owned, bob, f"counted {n}")
    stats = as_user(alice).get("/rooms/lobby/mod/stats").json()
    assert len(stats["per_minute"]) == 60
    assert stats["per_minute"][-1]["messages"] == 3
    assert stats["viewers"] == 0
    state = as_user(alice).get("/rooms/lobby/mod/state").json()
    assert state["owner"] == "alice"
    assert state["settings"]["posting"] == "open"


def test_hostile_text_is_inert_in_the_admin(owned: Room, bob: AbstractBaseUser) -> None:
    hostile = '<script>alert(1)</script><a href="javascript:alert(2)">x</a>\u202eevil\u200b'
    post_message(owned, bob, hostile)
    staff = get_user_model().objects.create_superuser("root", password="pw-root-123")
    client = as_user(staff)
    page = client.get("/admin/chat/roomevent/").content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    api(client, "timeout", {"user": "bob", "seconds": 60, "reason": hostile})
    audit_page = client.get("/admin/chat/auditentry/").content.decode()
    assert "<script>alert(1)</script>" not in audit_page
    assert "&lt;script&gt;" in audit_page


def test_a_form_encoded_action_is_refused_not_crashed(owned: Room, alice: AbstractBaseUser) -> None:
    """The CSRF check reads a form body first; the action must answer `invalid`, not a 500."""
    client = as_user(alice)
    answer = client.post("/rooms/lobby/mod/clear", data={"reason": "spam"})
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid"
    assert api(client, "clear").status_code == 200  # no body at all: an action without options


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("timeout", {"user": "bo\x00b", "seconds": 60}, "user"),
        ("settings", {"blocked_words": ["fine", "nu\x00l"]}, "blocked_words"),
    ],
)
def test_nul_characters_are_refused_before_the_database(
    owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser, path: str, body: dict[str, Any], field: str
) -> None:
    """PostgreSQL refuses text (and jsonb) holding NUL: refused as invalid on every backend."""
    before = snapshot(owned)
    answer = api(as_user(alice), path, body)
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid"
    assert answer.json()["field"] == field
    assert snapshot(owned) == before
