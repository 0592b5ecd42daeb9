"""Publishing to the channel layer: events that wait for a send go together, in order."""

from __future__ import annotations

import asyncio
from typing import Any

from chat.realtime import publish


class SlowLayer:
    """A layer whose group_send takes a while, like a Redis round trip."""

    def __init__(self, fail_first: bool = False) -> None:
        self.sent: list[dict[str, Any]] = []
        self.fail_first = fail_first

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        await asyncio.sleep(0.02)
        if self.fail_first:
            self.fail_first = False
            raise ConnectionError("layer down")
        self.sent.append({"group": group, **message})


async def drain(layer: SlowLayer, room_id: int) -> None:
    outbox = publish._outboxes[asyncio.get_running_loop()]
    while room_id in outbox.sending:
        await asyncio.wait_for(asyncio.shield(outbox.sending[room_id]), 5)


async def test_events_waiting_for_a_send_go_as_one_message_in_order() -> None:
    loop = asyncio.get_running_loop()
    layer = SlowLayer()
    for seq in range(1, 11):
        publish._add_to_outbox(loop, layer, 7, {"seq": seq, "kind": "message"})
    await asyncio.sleep(0)
    for seq in range(11, 14):  # while the first message is on its way
        publish._add_to_outbox(loop, layer, 7, {"seq": seq, "kind": "message"})
    await drain(layer, 7)
    assert [m["type"] for m in layer.sent] == [publish.ROOM_EVENTS_MESSAGE] * len(layer.sent)
    assert all(m["room_id"] == 7 and m["group"] == "room.7" for m in layer.sent)
    assert [e["seq"] for m in layer.sent for e in m["events"]] == list(range(1, 14))
    assert len(layer.sent) == 2  # 13 events, two round trips


async def test_a_large_burst_is_split_and_a_failed_send_does_not_stop_the_rest() -> None:
    loop = asyncio.get_running_loop()
    layer = SlowLayer(fail_first=True)
    count = publish.EVENTS_PER_MESSAGE * 2 + 3
    for seq in range(1, count + 1):
        publish._add_to_outbox(loop, layer, 8, {"seq": seq, "kind": "danmaku"})
    await drain(layer, 8)
    # The first part failed (the hub repairs it from the log); the rest went, in order.
    seqs = [e["seq"] for m in layer.sent for e in m["events"]]
    assert seqs == list(range(publish.EVENTS_PER_MESSAGE + 1, count + 1))
    assert max(len(m["events"]) for m in layer.sent) <= publish.EVENTS_PER_MESSAGE
