"""A saturated generator is measured again with more processes, and the report keeps why."""

from __future__ import annotations

from typing import Any

import pytest

from bench.scenarios import Bench, Settings


class _Measured(Bench):
    """A bench whose fan-out returns scripted generator CPU readings instead of measuring."""

    def __init__(self, busiest: list[float]) -> None:
        self.settings = Settings(workers=2)
        self.busiest = busiest
        self.calls: list[tuple[str, int | None]] = []

    def fanout(
        self, transport: str, viewers: int, rate: float, generator: str = "python", workers: int | None = None
    ) -> dict[str, Any]:
        self.calls.append((generator, workers))
        busiest = self.busiest.pop(0)
        return {
            "generator_cpu_pct_busiest": busiest,
            "deliveries_per_s": 1000 * len(self.calls),
            "p99_ms": 9.0,
        }


def test_a_generator_at_a_core_is_measured_again_with_twice_the_processes_until_it_is_not() -> None:
    bench = _Measured([98.0, 95.0, 40.0])

    row = bench.generator_check("node-ws", 2000, 100)

    assert bench.calls == [("node-ws", 2), ("node-ws", 4), ("node-ws", 8)]
    assert row["generator_cpu_pct_busiest"] == 40.0
    assert [run["processes"] for run in row["saturated_runs"]] == [2, 4]


@pytest.mark.parametrize("busiest", [[50.0], [99.0, 99.0, 99.0]])
def test_the_check_stops_when_the_generator_keeps_up_or_at_eight_processes(busiest: list[float]) -> None:
    bench = _Measured(list(busiest))

    row = bench.generator_check("python", 500, 200)

    assert len(bench.calls) == len(busiest)
    assert len(row["saturated_runs"]) == len(busiest) - 1
