"""Where a server's time goes during a measurement: py-spy samples it, this sums the samples.

`python -m bench.run --profile DIR ...` records each scenario's server(s) with py-spy while the
writer posts (py-spy reads the process from outside: nothing in the server changes, and its cost
is in py-spy's own process). The raw samples (one collapsed stack per line, with its count) are
kept in DIR; the row gets the functions that held the most samples, by their own time and with
what they called, as shares of all samples. py-spy is in requirements-dev.txt.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

SAMPLES_PER_SECOND = 250
TOP = 12


class Profiler:
    """py-spy recording one process until `stop`."""

    def __init__(self, pid: int, output: Path) -> None:
        exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        self.output = output
        command = [exe, "record", "--pid", str(pid), "--format", "raw", "--output", str(output)]
        command += ["--rate", str(SAMPLES_PER_SECOND), "--nonblocking", "--idle", "--threads"]
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def stop(self) -> dict[str, Any]:
        """End the recording (py-spy writes its file on SIGINT) and summarise it."""
        self.process.send_signal(signal.SIGINT)
        try:
            _, err = self.process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, err = self.process.communicate()
        if not self.output.exists():
            return {"error": err.decode(errors="replace")[-300:]}
        return summarise(self.output.read_text())


def _frame_name(frame: str) -> str:
    """`function (path/to/file.py:123)` -> `function (file.py)`: lines differ within a function."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    parts = Path(path).parts
    short = "/".join(parts[-2:]) if len(parts) >= 2 else path
    return f"{name} ({short})"


def summarise(raw: str, top: int = TOP) -> dict[str, Any]:
    """Of the main thread (the event loop, where the fan-out runs): the busiest functions by own
    samples and with what they called, as shares of its samples, and its idle share (samples
    waiting in the selector). Other threads (the database's) as one share of the main thread's."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = idle = other_threads = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        thread, *frames = stack.split(";")
        if not thread.endswith(": MainThread"):
            other_threads += count
            continue
        names = [_frame_name(frame) for frame in frames]
        if not names:
            continue
        total += count
        if names[-1].split(" (")[0].rsplit(".", 1)[-1] in ("select", "poll"):
            idle += count
            continue
        own[names[-1]] += count
        for name in set(names):
            inclusive[name] += count
    if not total:
        return {"samples": 0}

    def share(counter: Counter[str]) -> list[list[Any]]:
        return [[name, round(100 * count / total, 1)] for name, count in counter.most_common(top)]

    return {
        "samples": total,
        "idle_pct": round(100 * idle / total, 1),
        "other_threads_pct": round(100 * other_threads / total, 1),
        "own_pct": share(own),
        "inclusive_pct": share(inclusive),
    }
