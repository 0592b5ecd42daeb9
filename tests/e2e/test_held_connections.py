"""Held connections are bounded per address and per process (chat/guards/held.py), against a
real daphne: thousands of long-polls from one address are refused past the cap, while /healthz,
another address's posts and its stream keep answering."""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from collections.abc import Callable

import httpx
import pytest
import websockets

from .conftest import DaphneServer, login, unique_prefix

pytestmark = [pytest.mark.e2e, pytest.mark.alone]

PER_ADDRESS = 100
PER_PROCESS = 250
FLOOD = 2000


async def poll(
    port: int, path: str, source: str, answers: Counter[int], held: list[asyncio.StreamWriter]
) -> None:
    """One long-poll from `source`: counts the status of an answer; keeps a held one open."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    await writer.drain()
    try:
        line = await asyncio.wait_for(reader.readline(), 3)
    except TimeoutError:
        held.append(writer)  # still waiting for an event: held
        return
    answers[int(line.split()[1])] += 1
    writer.close()


def room_last_seq(server: DaphneServer) -> int:
    return int(httpx.get(f"{server.base_url}/rooms/demo/poll?timeout=0", timeout=10).json()["last_seq"])


# Timed in a process of its own: in this one, the flood's 2,000 sockets hold the GIL, and a
# request timed here measured the test's own event loop as much as the server.
TIMED_GET = """
import sys, time, httpx
started = time.monotonic()
status = httpx.get(sys.argv[1], timeout=10).status_code
print(status, time.monotonic() - started)
"""


async def timed_get(url: str) -> tuple[int, float]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", TIMED_GET, url, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await process.communicate()
    status, seconds = out.split()
    return int(status), float(seconds)


@pytest.fixture
def capped(start_server: Callable[..., DaphneServer]) -> DaphneServer:
    return start_server(CHAT_HELD_PER_IP=str(PER_ADDRESS), CHAT_CONNECTIONS_MAX=str(PER_PROCESS))


async def test_a_flood_of_polls_from_one_address_is_capped_and_slows_nobody(capped: DaphneServer) -> None:
    answers: Counter[int] = Counter()
    held: list[asyncio.StreamWriter] = []
    # Everything the room has, so each poll after it waits for the next event.
    last_seq = await asyncio.to_thread(room_last_seq, capped)
    path = f"/rooms/demo/poll?after={last_seq}&timeout=50"

    async def flood() -> None:
        polls = []
        for _ in range(FLOOD):  # 2,000 polls over about two seconds
            polls.append(asyncio.ensure_future(poll(capped.port, path, "127.0.0.1", answers, held)))
            await asyncio.sleep(0.001)
        await asyncio.gather(*polls)

    async def health_meanwhile() -> list[tuple[int, float]]:
        checks = []
        for _ in range(5):
            await asyncio.sleep(0.4)
            checks.append(await timed_get(f"{capped.base_url}/healthz"))
        return checks

    _, health = await asyncio.gather(flood(), health_meanwhile())
    try:
        assert len(held) == PER_ADDRESS
        assert answers == Counter({429: FLOOD - PER_ADDRESS})
        assert [status for status, _ in health] == [200] * 5
        slowest = max(seconds for _, seconds in health)
        print(  # the figures, with `pytest -s`
            f"{FLOOD} polls from one address: {len(held)} held, {answers[429]} refused with 429; "
            f"/healthz meanwhile {', '.join(f'{seconds * 1000:.0f}' for _, seconds in health)} ms"
        )
        assert slowest < 1.0, f"/healthz took {slowest:.2f} s under the flood"

        # The cap counts before the room is looked up: an unknown room is refused the same way.
        refused = await asyncio.to_thread(httpx.get, f"{capped.base_url}/rooms/no-such-room/poll", timeout=10)
        assert refused.status_code == 429
        assert refused.reason_phrase == "Too Many Requests"  # was "Unknown Status" (Twisted's table)
        assert refused.json()["code"] == "rate_limited"
        assert int(refused.headers["retry-after"]) > 0
        async with websockets.connect(f"{capped.ws_url}/ws/rooms/demo/") as socket:
            frame = await asyncio.wait_for(socket.recv(), 5)
            assert '"rate_limited"' in str(frame)
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(socket.recv(), 5)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 4429

        # Another address is not held back: it streams the room and posts to it.
        other = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
        async with httpx.AsyncClient(base_url=capped.base_url, transport=other, timeout=10) as client:
            waiting = asyncio.ensure_future(client.get(path.replace("timeout=50", "timeout=20")))
            cookies = await asyncio.to_thread(login, capped.base_url, "carol")
            client.cookies.update(cookies)
            posted = await client.post(
                "/rooms/demo/messages",
                json={"text": "still here"},
                headers={"X-CSRFToken": cookies["csrftoken"], "Origin": capped.base_url},
            )
            assert posted.status_code == 200, posted.text
            answer = await asyncio.wait_for(waiting, 10)
            assert answer.status_code == 200
            assert [event["text"] for event in answer.json()["events"]] == ["still here"]
        # The held polls got that event too, and gave their places back: the address polls again.
        for writer in held:
            writer.close()
        await asyncio.sleep(1)
        again = await asyncio.to_thread(httpx.get, f"{capped.base_url}/rooms/demo/poll?timeout=0", timeout=10)
        assert again.status_code == 200
    finally:
        for writer in held:
            writer.close()


async def test_the_process_cap_answers_503_past_its_connections(capped: DaphneServer) -> None:
    answers: Counter[int] = Counter()
    held: list[asyncio.StreamWriter] = []
    last_seq = await asyncio.to_thread(room_last_seq, capped)
    path = f"/rooms/demo/poll?after={last_seq}&timeout=50"
    sources = [f"127.0.0.{n}" for n in range(10, 14)]  # 4 addresses x 90 = 360 > 250
    await asyncio.gather(
        *(poll(capped.port, path, source, answers, held) for source in sources for _ in range(90))
    )
    try:
        assert len(held) == PER_PROCESS
        assert answers == Counter({503: 4 * 90 - PER_PROCESS})
        busy = await asyncio.to_thread(httpx.get, f"{capped.base_url}/rooms/demo/poll?timeout=0", timeout=10)
        assert busy.status_code == 503
        assert busy.json()["code"] == "server_busy"
        assert "retry-after" in busy.headers
        status, seconds = await timed_get(f"{capped.base_url}/healthz")
        assert status == 200
        assert seconds < 1.0
    finally:
        for writer in held:
            writer.close()


@pytest.mark.redis
async def test_two_processes_on_redis_share_one_address_s_cap(
    start_server: Callable[..., DaphneServer], redis_url: str
) -> None:
    """The per-address cap counts the address's held connections in every process: 6 polls
    held by one daphne and 4 by another fill a cap of 10, and each then refuses the next."""
    shared = {"REDIS_URL": redis_url, "REDIS_PREFIX": unique_prefix(), "CHAT_HELD_PER_IP": "10"}
    first, second = start_server(**shared), start_server(**shared)
    answers: Counter[int] = Counter()
    held: list[asyncio.StreamWriter] = []
    last_seq = await asyncio.to_thread(room_last_seq, first)
    path = f"/rooms/demo/poll?after={last_seq}&timeout=50"
    at_once = "/rooms/demo/poll?timeout=0"  # answered at once when it gets a place
    try:
        await asyncio.gather(*(poll(first.port, path, "127.0.0.1", answers, held) for _ in range(6)))
        await asyncio.gather(*(poll(second.port, path, "127.0.0.1", answers, held) for _ in range(4)))
        assert (len(held), answers) == (10, Counter())
        for server in (first, second):
            refused = await asyncio.to_thread(httpx.get, f"{server.base_url}{at_once}", timeout=10)
            assert refused.status_code == 429
            assert refused.json()["code"] == "rate_limited"
        async with websockets.connect(f"{second.ws_url}/ws/rooms/demo/") as socket:
            assert '"rate_limited"' in str(await asyncio.wait_for(socket.recv(), 5))
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(socket.recv(), 5)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 4429
        # A poll held by the first process ends: the second has a place again.
        held.pop(0).close()
        again: int | None = 429
        for _ in range(20):
            await asyncio.sleep(0.25)
            answer = await asyncio.to_thread(httpx.get, f"{second.base_url}{at_once}", timeout=10)
            again = answer.status_code
            if again == 200:
                break
        assert again == 200
    finally:
        for writer in held:
            writer.close()
