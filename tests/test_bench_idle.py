"""The idle benchmark's client side: enough source addresses for 50,000 connections."""

from __future__ import annotations

from bench.load import split_groups
from bench.scenarios import CONNECTIONS_PER_SOURCE, idle_groups


def test_fifty_thousand_idle_connections_come_from_three_loopback_addresses() -> None:
    groups = idle_groups(8000, 50_000)
    assert [group.source for group in groups] == ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
    assert sum(group.count for group in groups) == 50_000
    assert max(group.count for group in groups) <= CONNECTIONS_PER_SOURCE


def test_splitting_over_workers_keeps_each_viewers_source_address() -> None:
    specs = split_groups(idle_groups(8000, 30_000), 2)
    sources = [(group.source, group.count) for spec in specs for group in spec.groups]
    assert sorted(sources) == [
        ("127.0.0.1", 10_000),
        ("127.0.0.1", 10_000),
        ("127.0.0.2", 5_000),
        ("127.0.0.2", 5_000),
    ]
