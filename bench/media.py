"""A recorded "video" for the watch page's tests and screenshots: a WAV of silence, served with
Range support.

Chromium plays audio-only media in a <video> element, and a WAV needs no codec or fixture file.
Seeking needs byte ranges (HTTP 206), which `http.server`'s file handler does not do, so this
small handler does.
"""

from __future__ import annotations

import contextlib
import io
import re
import threading
import wave
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SAMPLE_RATE = 8000
RANGE = re.compile(r"bytes=(\d*)-(\d*)\Z")


def silence_wav(seconds: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(1)  # 8-bit PCM is unsigned: 0x80 is silence
        sound.setframerate(SAMPLE_RATE)
        sound.writeframes(b"\x80" * SAMPLE_RATE * seconds)
    return buffer.getvalue()


def handler_for(body: bytes) -> type[BaseHTTPRequestHandler]:
    class MediaHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            start, end = 0, len(body) - 1
            match = RANGE.match(self.headers.get("Range", ""))
            if match and (match.group(1) or match.group(2)):
                if match.group(1):
                    start = int(match.group(1))
                    if match.group(2):
                        end = min(int(match.group(2)), end)
                else:  # bytes=-N: the last N bytes
                    start = max(0, len(body) - int(match.group(2)))
                if start > end:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(body)}")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{end}/{len(body)}")
            else:
                self.send_response(200)
            self.send_header("Content-Type", "audio/wav")
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(end - start + 1))
            self.end_headers()
            # The browser drops requests when it seeks.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body[start : end + 1])

        def log_message(self, format: str, *args: object) -> None:
            pass

    return MediaHandler


@contextmanager
def local_http_server(handler: Callable[..., BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve with `handler` on a free port of 127.0.0.1 (an origin of its own) in a thread;
    yields its base URL, `http://127.0.0.1:<port>`."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@contextmanager
def media_server(seconds: int) -> Iterator[str]:
    """Serve `seconds` of silence; yields its http URL."""
    with local_http_server(handler_for(silence_wav(seconds))) as base:
        yield f"{base}/silence.wav"
