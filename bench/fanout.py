"""Fan-out benchmark, the original command line: N WebSocket viewers, one writer.

    .venv/bin/python bench/fanout.py --viewers 500 --rate 200 --seconds 10

Kept for its flags; it runs `bench.run`'s fan-out scenario (its own daphne on a fresh SQLite
database, production settings, the flood limit raised with CHAT_MESSAGE_RATE) and prints the
row as JSON. `python -m bench.run --help` has every scenario.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.load import raise_fd_limit
from bench.scenarios import Bench, Settings


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--viewers", type=int, default=500)
    parser.add_argument("--rate", type=float, default=200, help="messages posted per second")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--drain", type=float, default=15, help="seconds to wait for stragglers")
    parser.add_argument("--workers", type=int, default=2, help="load-generator processes for the viewers")
    parser.add_argument("--transport", choices=("ws", "sse", "poll"), default="ws")
    args = parser.parse_args()
    raise_fd_limit()
    with tempfile.TemporaryDirectory(prefix="chat-bench-") as folder:
        bench = Bench(Path(folder), Settings(args.workers, args.seconds, args.drain), small_rooms=0)
        row = bench.fanout(args.transport, args.viewers, args.rate)
    print(json.dumps(row, indent=2))


if __name__ == "__main__":
    main()
