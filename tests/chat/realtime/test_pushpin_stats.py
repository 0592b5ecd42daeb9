"""Counting the viewers Pushpin holds from its statistics (chat/realtime/pushpin_stats.py)."""

from __future__ import annotations

import time

from chat.realtime.presence import PUSHPIN_COUNT_KEY, summarize
from chat.realtime.pushpin_stats import CHANNELS_MAX, PushpinViewers, parse_packet


def test_sub_packets_are_summed_per_room_over_its_channels_and_modes() -> None:
    viewers = PushpinViewers()
    for raw in (
        b'sub J{"channel":"room-12","mode":"stream","subscribers":3,"ttl":60,"from":"h"}',
        b'sub J{"channel":"room-12","mode":"response","subscribers":2,"ttl":60,"from":"h"}',
        b'sub J{"channel":"room-12-rate-5","mode":"stream","subscribers":1,"ttl":60,"from":"h"}',
        b'sub J{"channel":"room-7","mode":"stream","subscribers":4,"ttl":60,"from":"h"}',
        b'sub J{"channel":"token-3","mode":"stream","subscribers":9,"ttl":60,"from":"h"}',  # not a room
        b'conn J{"id":"condure:1","ttl":120}',  # another kind of packet
        b"sub Tnot json",
    ):
        packet = parse_packet(raw)
        if packet is not None:
            viewers.take(packet)
    assert viewers.by_room() == {12: 6, 7: 4}
    # A count changes; a channel with nobody left says "unavailable".
    viewers.take({"channel": "room-12", "mode": "stream", "subscribers": 1, "ttl": 60, "from": "h"})
    viewers.take({"channel": "room-7", "mode": "stream", "unavailable": True, "from": "h"})
    assert viewers.by_room() == {12: 4}


def test_the_viewers_of_several_pushpin_instances_are_added() -> None:
    """GRIP_STATS names each instance's socket; each reports the viewers it holds (`from`)."""
    viewers = PushpinViewers()
    viewers.take({"channel": "room-5", "mode": "stream", "subscribers": 3, "ttl": 60, "from": "pushpin-a"})
    viewers.take({"channel": "room-5", "mode": "stream", "subscribers": 2, "ttl": 60, "from": "pushpin-b"})
    assert viewers.by_room() == {5: 5}
    viewers.take({"channel": "room-5", "mode": "stream", "unavailable": True, "from": "pushpin-a"})
    assert viewers.by_room() == {5: 2}  # the other instance's viewers still count


def test_a_count_not_refreshed_within_its_ttl_expires() -> None:
    viewers = PushpinViewers()
    viewers.take({"channel": "room-1", "mode": "stream", "subscribers": 2, "ttl": 0.05})
    assert viewers.by_room() == {1: 2}
    time.sleep(0.1)
    assert viewers.by_room() == {}


def test_the_channels_remembered_are_bounded() -> None:
    viewers = PushpinViewers()
    for n in range(CHANNELS_MAX + 5):
        viewers.take({"channel": f"room-{n}", "mode": "stream", "subscribers": 1, "ttl": 60})
    assert len(viewers.counts) == CHANNELS_MAX


def test_pushpins_count_is_that_many_guests_in_presence() -> None:
    members = {"u:1": "ann", "g:abc": "", PUSHPIN_COUNT_KEY: "250"}
    snapshot = summarize(members)
    assert (snapshot.count, snapshot.guests) == (252, 251)
    assert snapshot.users == [{"id": 1, "name": "ann"}]
    assert summarize({PUSHPIN_COUNT_KEY: "junk"}).count == 0
