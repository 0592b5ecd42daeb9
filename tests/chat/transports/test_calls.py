"""A room's call over its WebSocket (docs/PROTOCOL.md "Calls"), through the full ASGI stack
on the in-memory channel layer: the roster, addressed frames, limits and sanctions."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from chat.domain.calls import CALL_MAX_PARTICIPANTS, SDP_MAX_CHARS, removal_left
from chat.models import AuditEntry, CallAccess, CallInvite, Room, RoomEvent, RoomRole, Sanction
from chat.realtime.hub import Hub
from chat.transports.calls import CALL_FRAME_BURST
from tests.chat.asgi_clients import WebSocketClient, connect

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(30)]

OFFER = {"type": "call.signal", "kind": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}


async def joined(user: AbstractBaseUser, **media: Any) -> tuple[WebSocketClient, str]:
    """A connection of `user` to the lobby that joined its call; its participant id."""
    comm = await connect("/ws/rooms/lobby/", user)
    await comm.next_frame("hello")
    answer = await comm.send({"type": "call.join", "audio": True, "video": True, **media, "nonce": "j"})
    assert answer["type"] == "ack", answer
    return comm, answer["id"]


async def roster_of(comm: WebSocketClient, count: int, without: str | None = None) -> list[dict[str, Any]]:
    """The first roster frame with `count` participants, none of them `without` (earlier ones
    are skipped)."""
    while True:
        frame = await comm.next_frame("call.roster")
        ids = [p["id"] for p in frame["participants"]]
        if len(ids) == count and without not in ids:
            return list(frame["participants"])


@database_sync_to_async
def make_user(name: str) -> AbstractBaseUser:
    return get_user_model().objects.create_user(name, password="pw-" + name + "-123")


async def test_the_roster_reaches_the_room_live_and_is_not_presence(
    hub: Hub, room: Room, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    watcher = await connect("/ws/rooms/lobby/", None)  # a guest reading the room
    await watcher.next_frame("hello")
    await watcher.assert_silent("call.roster")  # no call yet: no roster frame
    comm_a, id_a = await joined(alice, video=False)
    (entry,) = await roster_of(watcher, 1)
    assert entry == {
        "id": id_a,
        "user": {"id": alice.pk, "name": "alice"},
        "audio": True,
        "video": False,
        "audio_muted": False,
        "video_muted": False,
    }
    bob_conn = await connect("/ws/rooms/lobby/", bob)  # comes in later: shown the call at once
    await bob_conn.next_frame("hello")
    assert [p["id"] for p in await roster_of(bob_conn, 1)] == [id_a]
    presence = await watcher.next_frame("presence")
    assert presence["count"] == 3  # presence counts readers; the call has one participant

    assert (await comm_a.send({"type": "call.mute", "audio": True, "audio_muted": True, "nonce": 2}))[
        "type"
    ] == "ack"
    (muted,) = await roster_of(watcher, 1)
    assert muted["audio_muted"] is True

    assert (await comm_a.send({"type": "call.leave", "nonce": 3}))["type"] == "ack"
    assert await roster_of(watcher, 0) == []
    assert await database_sync_to_async(RoomEvent.objects.count)() == 0  # nothing in the log
    for comm in (watcher, comm_a, bob_conn):
        await comm.disconnect()


async def test_an_addressed_frame_reaches_only_its_participant(
    hub: Hub, room: Room, alice: AbstractBaseUser, bob: AbstractBaseUser, carol: AbstractBaseUser
) -> None:
    comm_a, id_a = await joined(alice)
    comm_b, id_b = await joined(bob)
    comm_c, _id_c = await joined(carol)
    watcher = await connect("/ws/rooms/lobby/", None)
    await watcher.next_frame("hello")

    assert (await comm_a.send({**OFFER, "to": id_b, "nonce": 1}))["type"] == "ack"
    candidate = {
        "type": "call.signal",
        "kind": "candidate",
        "to": id_b,
        "candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host",
    }
    assert (await comm_a.send({**candidate, "sdp_mid": "0", "sdp_mline_index": 0, "nonce": 2}))[
        "type"
    ] == "ack"
    offer = await comm_b.next_frame("call.signal")
    assert offer == {"type": "call.signal", "from": id_a, "kind": "offer", "sdp": OFFER["sdp"]}
    second = await comm_b.next_frame("call.signal")
    assert second["kind"] == "candidate"
    assert second["sdp_mline_index"] == 0
    assert second["from"] == id_a
    for other in (comm_a, comm_c, watcher):
        await other.assert_silent("call.signal")

    answer = {"type": "call.signal", "kind": "answer", "to": id_a, "sdp": "v=0\r\n", "nonce": 3}
    assert (await comm_b.send(answer))["type"] == "ack"
    assert (await comm_a.next_frame("call.signal"))["from"] == id_b
    await comm_c.assert_silent("call.signal")

    refused = await comm_a.send({**OFFER, "to": "nobody", "nonce": 4})
    assert refused["code"] == "peer_not_found"
    assert (await comm_a.send({**OFFER, "to": id_a, "nonce": 5}))["code"] == "peer_not_found"
    outsider = await watcher.send({**OFFER, "to": id_b, "nonce": 6})
    assert outsider["code"] == "not_in_call"  # only participants signal
    await comm_b.assert_silent("call.signal")
    for comm in (comm_a, comm_b, comm_c, watcher):
        await comm.disconnect()


async def test_frames_are_checked_and_limited(
    hub: Hub, room: Room, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    comm_a, _ = await joined(alice)
    comm_b, id_b = await joined(bob)
    too_long = await comm_a.send({**OFFER, "to": id_b, "sdp": "x" * (SDP_MAX_CHARS + 1), "nonce": 1})
    assert too_long["code"] == "too_long"
    assert (await comm_a.send({**OFFER, "kind": "bye", "to": id_b, "nonce": 2}))["code"] == "invalid"
    assert (await comm_a.send({"type": "call.mute", "audio_muted": "yes", "nonce": 3}))["code"] == "invalid"
    assert (await comm_a.send({"type": "call.join", "resume": "x" * 100, "nonce": 4}))["code"] == "invalid"
    codes = []
    for n in range(CALL_FRAME_BURST + 5):
        await comm_a.send_raw(text_data=f'{{"type": "call.heartbeat", "nonce": {n}}}')
    while len(codes) < CALL_FRAME_BURST + 5:
        frame = await comm_a._read(5)
        if frame["type"] in {"ack", "error"}:
            codes.append(frame.get("code", "ok"))
    assert "rate_limited" in codes
    assert codes.count("ok") <= CALL_FRAME_BURST
    await comm_a.disconnect()
    await comm_b.disconnect()


async def test_a_call_holds_six_and_refuses_a_seventh(hub: Hub, room: Room) -> None:
    comms = []
    for n in range(CALL_MAX_PARTICIPANTS):
        comm, _ = await joined(await make_user(f"caller{n}"))
        comms.append(comm)
    late = await connect("/ws/rooms/lobby/", await make_user("late"))
    await late.next_frame("hello")
    refused = await late.send({"type": "call.join", "audio": True, "nonce": "j"})
    assert refused["code"] == "call_full"
    assert refused["limit"] == CALL_MAX_PARTICIPANTS
    assert "at most 6" in refused["message"]
    for comm in [*comms, late]:
        await comm.disconnect()


async def test_a_participant_who_stops_heartbeating_expires(
    hub: Hub, room: Room, alice: AbstractBaseUser, bob: AbstractBaseUser, settings: Any
) -> None:
    settings.CHAT_CALL_TIMEOUT = 1
    comm_a, id_a = await joined(alice)
    comm_b, id_b = await joined(bob)
    await asyncio.sleep(0.6)
    assert (await comm_b.send({"type": "call.heartbeat", "nonce": 1}))["type"] == "ack"
    await asyncio.sleep(0.6)
    await hub.calls.sweep()  # alice is past the timeout, bob heartbeated within it
    (left,) = await roster_of(comm_b, 1, without=id_a)
    assert left["id"] == id_b
    assert (await comm_a.next_frame("call.ended"))["reason"] == "expired"
    assert (await comm_a.send({"type": "call.heartbeat", "nonce": 2}))["code"] == "not_in_call"
    await comm_a.disconnect()
    await comm_b.disconnect()


async def test_a_dropped_connection_resumes_its_place(
    hub: Hub, room: Room, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    comm_a, id_a = await joined(alice)
    comm_b, id_b = await joined(bob)
    await roster_of(comm_b, 2)
    await comm_a.disconnect()  # the WebSocket dropped; the peer connection may still stand
    await comm_b.assert_silent("call.roster")  # alice is still in the call
    again = await connect("/ws/rooms/lobby/", alice)
    await again.next_frame("hello")
    answer = await again.send({"type": "call.join", "audio": True, "video": True, "resume": id_a, "nonce": 1})
    assert answer["id"] == id_a
    assert (await comm_b.send({**OFFER, "to": id_a, "nonce": 2}))["type"] == "ack"
    assert (await again.next_frame("call.signal"))["from"] == id_b
    # Joining from another tab without `resume` takes the old place: one participant per user.
    tab = await connect("/ws/rooms/lobby/", alice)
    await tab.next_frame("hello")
    new_id = (await tab.send({"type": "call.join", "audio": True, "nonce": 3}))["id"]
    assert new_id != id_a
    assert (await again.next_frame("call.ended"))["reason"] == "replaced"
    assert sorted(p["id"] for p in await roster_of(comm_b, 2)) == sorted([new_id, id_b])
    for comm in (again, comm_b, tab):
        await comm.disconnect()


async def test_sanctioned_users_and_guests_cannot_join(
    hub: Hub, room: Room, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    await database_sync_to_async(Sanction.objects.create)(room=room, user=alice, kind=Sanction.Kind.BAN)
    until = timezone.now() + timedelta(minutes=5)
    await database_sync_to_async(Sanction.objects.create)(
        room=room, user=bob, kind=Sanction.Kind.TIMEOUT, until=until
    )
    guest = await connect("/ws/rooms/lobby/", None)
    await guest.next_frame("hello")
    assert (await guest.send({"type": "call.join", "nonce": 1}))["code"] == "login_required"
    for user, code in ((alice, "banned"), (bob, "muted")):
        comm = await connect("/ws/rooms/lobby/", user)
        await comm.next_frame("hello")
        assert (await comm.send({"type": "call.join", "audio": True, "nonce": 1}))["code"] == code
        await comm.disconnect()
    await guest.disconnect()


async def test_a_ban_during_the_call_ends_the_banned_part_at_the_next_heartbeat(
    hub: Hub, room: Room, alice: AbstractBaseUser, bob: AbstractBaseUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("chat.transports.calls.STANDING_RECHECK_SECS", 0)
    comm_a, id_a = await joined(alice)
    comm_b, _ = await joined(bob)
    await database_sync_to_async(Sanction.objects.create)(room=room, user=alice, kind=Sanction.Kind.BAN)
    assert (await comm_a.send({"type": "call.heartbeat", "nonce": 1}))["code"] == "banned"
    assert (await comm_a.next_frame("call.ended"))["reason"] == "removed"
    assert [p["user"]["name"] for p in await roster_of(comm_b, 1, without=id_a)] == ["bob"]
    await comm_a.disconnect()
    await comm_b.disconnect()


async def test_a_moderator_removes_a_participant(
    hub: Hub, owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser, carol: AbstractBaseUser
) -> None:
    comm_a, id_a = await joined(alice)  # the owner
    comm_b, id_b = await joined(bob)
    comm_c, id_c = await joined(carol)
    refused = await comm_c.send({"type": "call.remove", "participant": id_b, "nonce": 1})
    assert refused["code"] == "forbidden"
    assert (await comm_a.send({"type": "call.remove", "participant": id_b, "nonce": 2}))["type"] == "ack"
    assert (await comm_b.next_frame("call.ended"))["reason"] == "removed"
    assert sorted(p["id"] for p in await roster_of(comm_c, 2, without=id_b)) == sorted([id_a, id_c])
    assert (await comm_b.send({**OFFER, "to": id_a, "nonce": 3}))["code"] == "not_in_call"
    gone = await comm_a.send({"type": "call.remove", "participant": id_b, "nonce": 4})
    assert gone["code"] == "peer_not_found"
    for comm in (comm_a, comm_b, comm_c):
        await comm.disconnect()


async def test_a_removed_participant_stays_out_for_a_while_and_it_is_in_the_audit_log(
    hub: Hub,
    owned: Room,
    alice: AbstractBaseUser,
    bob: AbstractBaseUser,
    settings: Any,
) -> None:
    settings.CHAT_CALL_REMOVAL_SECS = 600
    comm_a, _ = await joined(alice)  # the owner
    comm_b, id_b = await joined(bob)
    assert (await comm_a.send({"type": "call.remove", "participant": id_b, "nonce": 1}))["type"] == "ack"
    ended = await comm_b.next_frame("call.ended")
    assert ended == {"type": "call.ended", "reason": "removed", "retry_after": 600}
    again = await comm_b.send({"type": "call.join", "audio": True, "nonce": 2})
    assert again["code"] == "call_removed", again
    assert again["retry_after"] == 600
    assert "join it again in 10 minutes" in again["message"]
    # From another tab, and through the resume of a dropped connection, alike.
    tab = await connect("/ws/rooms/lobby/", bob)
    await tab.next_frame("hello")
    resumed = await tab.send({"type": "call.join", "audio": True, "resume": id_b, "nonce": 3})
    assert resumed["code"] == "call_removed"
    entry = await database_sync_to_async(AuditEntry.objects.get)(room=owned, action="call_remove")
    assert (entry.actor_name, entry.target_name, entry.detail) == ("alice", "bob", {"seconds": 600})
    for comm in (comm_a, comm_b, tab):
        await comm.disconnect()


async def test_the_bar_is_in_place_before_the_participant_leaves_the_roster(
    hub: Hub, owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page rejoins as soon as it finds itself out of the roster (its next heartbeat answers
    not_in_call): by then it must already be kept out."""
    comm_a, _ = await joined(alice)
    comm_b, id_b = await joined(bob)
    bars: list[int] = []
    change = hub.calls.change

    async def watched(room_id: int, apply: Any) -> Any:
        bars.append(removal_left(owned, bob.pk))
        return await change(room_id, apply)

    monkeypatch.setattr(hub.calls, "change", watched)
    assert (await comm_a.send({"type": "call.remove", "participant": id_b, "nonce": 1}))["type"] == "ack"
    assert bars, "the removal changed the roster"
    assert all(left > 0 for left in bars), bars
    for comm in (comm_a, comm_b):
        await comm.disconnect()


async def test_a_removal_ends_after_its_time(
    hub: Hub, owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser, settings: Any
) -> None:
    settings.CHAT_CALL_REMOVAL_SECS = 1
    comm_a, _ = await joined(alice)
    comm_b, id_b = await joined(bob)
    assert (await comm_a.send({"type": "call.remove", "participant": id_b, "nonce": 1}))["type"] == "ack"
    await comm_b.next_frame("call.ended")
    assert (await comm_b.send({"type": "call.join", "audio": True, "nonce": 2}))["code"] == "call_removed"
    await asyncio.sleep(1.1)
    assert (await comm_b.send({"type": "call.join", "audio": True, "nonce": 3}))["type"] == "ack"
    await comm_a.disconnect()
    await comm_b.disconnect()


async def test_a_removed_moderator_may_join_again_at_once(
    hub: Hub, owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    await database_sync_to_async(RoomRole.objects.create)(room=owned, user=bob, role=RoomRole.Role.MODERATOR)
    comm_a, _ = await joined(alice)
    comm_b, id_b = await joined(bob)
    assert (await comm_a.send({"type": "call.remove", "participant": id_b, "nonce": 1}))["type"] == "ack"
    assert "retry_after" not in await comm_b.next_frame("call.ended")
    assert (await comm_b.send({"type": "call.join", "audio": True, "nonce": 2}))["type"] == "ack"
    await comm_a.disconnect()
    await comm_b.disconnect()


@pytest.mark.parametrize("access", [CallAccess.MEMBERS, CallAccess.INVITED])
async def test_the_room_decides_who_may_join(
    hub: Hub,
    owned: Room,
    alice: AbstractBaseUser,
    bob: AbstractBaseUser,
    carol: AbstractBaseUser,
    access: str,
) -> None:
    """bob is a member and carol is invited; alice owns the room and always may."""
    await database_sync_to_async(Room.objects.filter(pk=owned.pk).update)(call_access=access)
    await database_sync_to_async(RoomRole.objects.create)(room=owned, user=bob, role=RoomRole.Role.MEMBER)
    await database_sync_to_async(CallInvite.objects.create)(room=owned, user=carol)
    allowed = {"alice": True, "bob": access == CallAccess.MEMBERS, "carol": access == CallAccess.INVITED}
    for user in (alice, bob, carol):
        comm = await connect("/ws/rooms/lobby/", user)
        await comm.next_frame("hello")
        answer = await comm.send({"type": "call.join", "audio": True, "nonce": 1})
        if allowed[user.get_username()]:
            assert answer["type"] == "ack", (user, answer)
        else:
            assert answer["code"] == "call_forbidden", (user, answer)
        await comm.disconnect()


async def test_a_private_rooms_call_is_for_its_members(
    hub: Hub, room: Room, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    await database_sync_to_async(Room.objects.filter(pk=room.pk).update)(private=True)
    await database_sync_to_async(RoomRole.objects.create)(room=room, user=alice, role=RoomRole.Role.MEMBER)
    comm, _ = await joined(alice)
    assert (await comm.send({"type": "call.leave", "nonce": 2}))["type"] == "ack"
    # A member who lost the role while connected: the join re-reads the room and the roles.
    await database_sync_to_async(RoomRole.objects.filter(user=alice).delete)()
    assert (await comm.send({"type": "call.join", "audio": True, "nonce": 3}))["code"] == "private_room"
    await comm.disconnect()
