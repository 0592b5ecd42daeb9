"""The benchmark report puts this project and socket.io side by side, and the two generators."""

from __future__ import annotations

from typing import Any

from bench.report import generator_table, limit_of, section, side_by_side


def _row(**fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "scenario": "fanout",
        "server": "this project (daphne)",
        "transport": "ws",
        "viewers": 2000,
        "rate": 100.0,
        "post_rate": 100.0,
        "deliveries_per_s": 200_000,
        "lost": 0,
        "duplicates": 0,
        "still_arriving": False,
        "p50_ms": 50.0,
        "p99_ms": 200.0,
        "max_ms": 300.0,
        "server_cpu_pct": 70.0,
        "server_rss_mb": 120.0,
        "generator_cpu_pct": 120.0,
        "generator_cpu_pct_busiest": 55.0,
        "generator_processes": 3,
    }
    row.update(fields)
    return row


def test_each_room_is_one_line_with_this_project_and_socketio_side_by_side() -> None:
    ours = _row()
    theirs = _row(server="Node.js socket.io 4.8.4", peer="socketio", deliveries_per_s=160_000, p99_ms=3300.0)
    other_room = _row(viewers=500, rate=20.0)
    redis_ours = _row(scenario="redis", server="this project, 2 daphne processes on Redis")
    redis_theirs = _row(
        scenario="redis", server="socket.io on Redis", peer="socketio", deliveries_per_s=100_000
    )

    lines = side_by_side([ours, theirs, other_room, redis_ours, redis_theirs]).splitlines()

    assert len(lines) == 4  # header, rule, two rooms measured on both
    assert lines[2].startswith("| 2,000 WebSocket viewers x 100 posts/s | 200,000 / 160,000 |")
    assert "| 200 / 3,300 |" in lines[2]
    assert "| 1.25 |" in lines[2]
    assert lines[3].startswith("| 2,000 WebSocket viewers on 2 processes (Redis) x 100 posts/s |")
    assert "| 2.00 |" in lines[3]


def test_long_poll_rooms_are_paired_with_socketio_long_polling_only() -> None:
    ours_ws, ours_poll = _row(viewers=1000, rate=5.0), _row(transport="poll", viewers=1000, rate=5.0)
    theirs_poll = _row(
        server="Node.js socket.io 4.8.4",
        peer="socketio",
        transport="poll",
        viewers=1000,
        rate=5.0,
        deliveries_per_s=2_500,
        p99_ms=900.0,
    )

    lines = side_by_side([ours_ws, ours_poll, theirs_poll]).splitlines()

    assert len(lines) == 3  # the WebSocket room has no socket.io row to pair with
    assert lines[2].startswith("| 1,000 long-poll viewers x 5 posts/s | 200,000 / 2,500 |")
    assert "| 200 / 900 |" in lines[2]


def test_a_generator_process_at_a_core_is_named_as_the_limit_even_when_the_total_is_spread() -> None:
    spread = _row(server_cpu_pct=40.0, generator_cpu_pct=120.0, generator_cpu_pct_busiest=55.0)
    assert limit_of(spread) == "none (keeps up)"
    assert "generator CPU" in limit_of(_row(generator_cpu_pct=130.0, generator_cpu_pct_busiest=97.0))


def test_the_second_generator_is_shown_beside_the_first_on_the_same_room_and_not_in_the_fanout_table() -> (
    None
):
    python = _row()
    node = _row(
        generator="node-ws",
        p99_ms=180.0,
        saturated_runs=[{"processes": 2, "busiest_pct": 98.0, "deliveries_per_s": 150_000, "p99_ms": 900.0}],
    )

    lines = generator_table([python, node]).splitlines()
    generated = section([python, node], "command", "date", {})

    assert "bench/load.py (Python asyncio)" in lines[2]
    assert "bench/node_viewers.js (Node.js ws)" in lines[3]
    assert "2 processes: busiest 98%, 150,000/s, p99 900 ms" in lines[3]
    fanout_table = generated.split("### Fan-out")[1]
    assert "Node.js ws" not in fanout_table
