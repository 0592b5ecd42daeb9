"""Request bodies are refused by size before they are read (chat/transports/bounded.py), against
a real daphne started the way `make run` starts it: a guest's gigabyte neither grows the process
nor slows anyone else."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import httpx
import pytest

from .conftest import DaphneServer

pytestmark = [pytest.mark.e2e, pytest.mark.alone]

GIB = 1 << 30
IMPORT_LIMIT = 300_000  # DANMAKU_IMPORT_MAX_BYTES for the server of these tests


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def request_head(path: str, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def answer_of(sock: socket.socket, timeout: float = 5) -> bytes:
    """What the server sends until it closes the connection."""
    sock.settimeout(timeout)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    return data


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0


@pytest.fixture
def bounded(start_server) -> DaphneServer:  # type: ignore[no-untyped-def]
    return start_server(DANMAKU_IMPORT_MAX_BYTES=str(IMPORT_LIMIT))  # type: ignore[no-any-return]


def test_a_gigabyte_is_refused_at_once_and_the_process_does_not_grow(bounded: DaphneServer) -> None:
    assert bounded.process is not None
    before = rss_mb(bounded.process.pid)
    sock = socket.create_connection(("127.0.0.1", bounded.port))
    started = time.monotonic()
    sock.sendall(
        request_head("/rooms/demo/messages", {"Content-Type": "application/json", "Content-Length": str(GIB)})
    )

    # The client streams its body as fast as it can; the server answers without reading it.
    sent = [0]

    def stream() -> None:
        block = b"x" * (1 << 20)
        try:
            while sent[0] < GIB:
                sock.sendall(block)
                sent[0] += len(block)
        except OSError:
            pass  # refused and closed: what the test wants

    writer = threading.Thread(target=stream, daemon=True)
    writer.start()
    answer = answer_of(sock)
    elapsed = time.monotonic() - started
    writer.join(timeout=10)
    sock.close()

    assert status_of(answer) == 413, answer[:300]
    assert b'"code":"too_long"' in answer
    assert b"64 KiB" in answer
    assert elapsed < 1.0, f"answered after {elapsed:.2f} s"
    assert sent[0] < GIB, "the server read the whole gigabyte"
    health = httpx.get(f"{bounded.base_url}/healthz", timeout=5)
    assert health.status_code == 200
    assert health.elapsed.total_seconds() < 1.0
    grown = rss_mb(bounded.process.pid) - before
    print(  # the figures, with `pytest -s`
        f"1 GiB body: 413 after {elapsed * 1000:.0f} ms, {sent[0] >> 20} MiB sent before the close, "
        f"RSS {before:.0f} -> {before + grown:.0f} MB, "
        f"/healthz {health.elapsed.total_seconds() * 1000:.0f} ms"
    )
    assert grown < 20, f"the process grew {grown:.0f} MB"


def test_a_chunked_body_stops_being_read_at_the_limit(bounded: DaphneServer) -> None:
    sock = socket.create_connection(("127.0.0.1", bounded.port))
    head = {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
    sock.sendall(request_head("/rooms/demo/messages", head))
    chunk = b"%x\r\n%s\r\n" % (16 * 1024, b"y" * 16 * 1024)
    sent = 0
    try:
        for _ in range(64):  # 1 MiB in all, if it were read
            sock.sendall(chunk)
            sent += 16 * 1024
            time.sleep(0.005)
    except OSError:
        pass
    answer = answer_of(sock)
    sock.close()
    assert status_of(answer) == 413, answer[:300]
    assert sent < 1 << 20, "the whole chunked body was taken"


def test_each_path_has_its_limit(bounded: DaphneServer) -> None:
    """64 KiB by default; the XML upload takes up to its own configured limit."""
    with httpx.Client(base_url=bounded.base_url, timeout=10) as client:
        small = client.post("/rooms/demo/messages", content=b"{}" + b" " * 60_000)
        assert small.status_code != 413  # read, and refused for other reasons (no session)
        large = client.post("/rooms/demo/messages", content=b" " * 70_000)
        assert large.status_code == 413
        assert large.json()["code"] == "too_long"
        upload = client.post("/rooms/demo/mod/import", files={"file": ("d.xml", b"<i>" + b" " * 200_000)})
        assert upload.status_code != 413  # over 64 KiB, under the import's limit: the view decides
        too_big = client.post(
            "/rooms/demo/mod/import", files={"file": ("d.xml", b"<i>" + b" " * (IMPORT_LIMIT + 70_000))}
        )
        assert too_big.status_code == 413
        assert "KiB" in too_big.json()["message"]
        assert client.get("/healthz").status_code == 200
