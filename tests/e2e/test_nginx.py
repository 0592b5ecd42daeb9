"""deploy/nginx.conf run by the real nginx in front of a real daphne, over HTTPS.

The test renders the example configuration itself (only the values its header marks as
replaced by this test), includes it in a minimal main configuration like Debian's, and checks
through the proxy: pages and static files, WebSocket, server-sent events arriving unbuffered,
and long-polls held past their timeout without a proxy error; and a rolling restart of two
processes behind it, under traffic, without one failed request.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import json
import os
import pwd
import re
import signal
import socket
import ssl
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from ..conftest import unavailable
from .conftest import (
    PASSWORD,
    ROOT,
    DaphneServer,
    create_rooms,
    free_port,
    login,
    manage,
    unique_prefix,
    wait_until_up,
)
from .test_websocket import Peer

# Only the tests that time something or restart servers run `alone` (the Makefile's last phases).
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

NGINX = Path("/usr/sbin/nginx")  # Debian's package (apt-get install -y nginx)
MIME_TYPES = Path("/etc/nginx/mime.types")  # shipped with it; Debian's nginx.conf includes it
DEPLOY_CONF = ROOT / "deploy" / "nginx.conf"
# Strings of deploy/nginx.conf the test replaces (its header lists them too).
DAPHNE_PLACEHOLDERS = ("server 127.0.0.1:8001 ", "server 127.0.0.1:8002 ")
HTTP_LISTEN = "listen 80;"
HTTPS_LISTEN = "listen 443 ssl http2;"
HTTPS_PORT = 'default "";  # HTTPS port'
CERTIFICATE = "/etc/ssl/chat/fullchain.pem"
CERTIFICATE_KEY = "/etc/ssl/chat/privkey.pem"
STATIC_ROOT = "/srv/chat/staticfiles/"
ACCESS_LOG = "/var/log/nginx/chat.access.log"

# Lines of the main configuration around the example, as Debian's nginx.conf has them, with
# every path nginx writes to inside the test's directory (the test may not run as root).
MAIN_CONF = """\
{user}
worker_processes 1;
events {{
    worker_connections 512;
}}
http {{
    include {mime_types};
    default_type application/octet-stream;
    access_log {tmp}/access.log;
    client_body_temp_path {tmp}/client_body_temp;
    proxy_temp_path {tmp}/proxy_temp;
    fastcgi_temp_path {tmp}/fastcgi_temp;
    uwsgi_temp_path {tmp}/uwsgi_temp;
    scgi_temp_path {tmp}/scgi_temp;
    include {tmp}/chat.conf;
}}
"""


def require_nginx() -> None:
    if NGINX.exists() and MIME_TYPES.exists():
        return
    unavailable(f"nginx is not installed at {NGINX} (apt-get install -y nginx)")


class ProxiedDaphne(DaphneServer):
    """daphne as docs/OPERATIONS.md runs it behind nginx: `python -m config.serve --proxy-headers`."""

    args = ("--proxy-headers",)
    ready_path = "/healthz"  # what the rolling restart waits for (docs/OPERATIONS.md)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)  # nginx: fast shutdown, open streams are cut
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def make_certificate(folder: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a certificate for 127.0.0.1 signed by it: (ca, fullchain, key)."""
    now = datetime.datetime.now(datetime.UTC)

    def build(
        subject: str,
        issuer: str,
        key: ec.EllipticCurvePrivateKey,
        signer: ec.EllipticCurvePrivateKey,
        ca: bool,
    ) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), critical=False
            )
        )
        if ca:
            builder = builder.add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
            )
        else:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False,
            ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        return builder.sign(signer, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = build("chat test CA", "chat test CA", ca_key, ca_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = build("127.0.0.1", "chat test CA", key, ca_key, ca=False)
    pem = serialization.Encoding.PEM
    ca_path, chain_path, key_path = folder / "ca.pem", folder / "fullchain.pem", folder / "privkey.pem"
    ca_path.write_bytes(ca.public_bytes(pem))
    chain_path.write_bytes(leaf.public_bytes(pem) + ca.public_bytes(pem))
    key_path.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o600)
    return ca_path, chain_path, key_path


def render(template: str, replacements: dict[str, str]) -> str:
    for old, new in replacements.items():
        if old not in template:
            raise AssertionError(f"{DEPLOY_CONF} no longer contains {old!r}; update {__file__} with it")
        template = template.replace(old, new)
    return template


@dataclass
class Proxy:
    """nginx in front of one daphne; `base_url`/`ws_url` let test_websocket.Peer connect through it."""

    base_url: str
    ws_url: str
    http_url: str
    daphne: ProxiedDaphne
    ca: Path
    access_log: Path  # nginx's, in the format of deploy/nginx.conf


@dataclass
class Nginx:
    base_url: str
    http_url: str
    ca: Path
    access_log: Path


def collect_static(env: dict[str, str], static: Path) -> None:
    """`manage.py collectstatic`, into the test's directory rather than the checkout's."""
    manage(
        env,
        "shell",
        "-c",
        "from django.conf import settings\n"
        "from django.core.management import call_command\n"
        f"settings.STATIC_ROOT = {str(static)!r}\n"
        "call_command('collectstatic', interactive=False, verbosity=0)\n",
    )


def proxied_env(e2e_env: dict[str, str], **extra: str) -> dict[str, str]:
    return {
        **e2e_env,
        "DEBUG": "0",
        "SECRET_KEY": "nginx-test-" + unique_prefix(),
        "SERVE_STATIC": "0",
        **extra,
    }


@contextmanager
def running_nginx(tmp: Path, daphne_ports: list[int], static: Path) -> Iterator[Nginx]:
    """deploy/nginx.conf, rendered for the daphne processes on `daphne_ports` (one or two), run
    by the real nginx; HTTPS with a throwaway CA that login() and Peer trust meanwhile."""
    require_nginx()
    ca, chain, key = make_certificate(tmp)
    nginx: subprocess.Popen[bytes] | None = None
    saved_cert_file = os.environ.get("SSL_CERT_FILE")
    try:
        http_port, https_port = free_port(), free_port()
        replacements = {
            HTTP_LISTEN: f"listen 127.0.0.1:{http_port};",
            HTTPS_LISTEN: f"listen 127.0.0.1:{https_port} ssl http2;",
            HTTPS_PORT: f'default ":{https_port}";',
            CERTIFICATE: str(chain),
            CERTIFICATE_KEY: str(key),
            STATIC_ROOT: f"{static}/",
            ACCESS_LOG: str(tmp / "chat.access.log"),
        }
        ports = daphne_ports * 2 if len(daphne_ports) == 1 else daphne_ports  # both lines, one process
        replacements.update(
            {line: f"server 127.0.0.1:{port} " for line, port in zip(DAPHNE_PLACEHOLDERS, ports, strict=True)}
        )
        (tmp / "chat.conf").write_text(render(DEPLOY_CONF.read_text(), replacements))
        # Workers started by root run as `nobody` unless told otherwise, and could not read
        # the test's private directory.
        user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
        (tmp / "nginx.conf").write_text(MAIN_CONF.format(user=user, tmp=tmp, mime_types=MIME_TYPES))
        error_log = tmp / "error.log"
        command = [
            str(NGINX),
            "-c", str(tmp / "nginx.conf"),
            "-p", f"{tmp}/",
            "-g", f"daemon off; pid {tmp}/nginx.pid; error_log {error_log} info;",
        ]  # fmt: skip
        with (tmp / "nginx.out").open("ab") as out:
            nginx = subprocess.Popen(command, cwd=tmp, stdout=out, stderr=subprocess.STDOUT)

        def nginx_log() -> str:
            text = (tmp / "nginx.out").read_text(errors="replace")
            if error_log.exists():
                text += error_log.read_text(errors="replace")
            return text

        base_url = f"https://127.0.0.1:{https_port}"
        wait_until_up(nginx, base_url + "/", nginx_log, verify=ssl.create_default_context(cafile=str(ca)))
        # login() and Peer verify certificates the default way: trust the throwaway CA.
        os.environ["SSL_CERT_FILE"] = str(ca)
        yield Nginx(base_url, f"http://127.0.0.1:{http_port}", ca, tmp / "chat.access.log")
    finally:
        if saved_cert_file is None:
            os.environ.pop("SSL_CERT_FILE", None)
        else:
            os.environ["SSL_CERT_FILE"] = saved_cert_file
        if nginx is not None:
            stop(nginx)


@pytest.fixture(scope="module")
def proxy(e2e_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    require_nginx()
    tmp = tmp_path_factory.mktemp("nginx")
    static = tmp / "staticfiles"
    env = proxied_env(e2e_env)
    collect_static(env, static)
    daphne = ProxiedDaphne(env, tmp / "daphne.log")
    try:
        daphne.start()
        with running_nginx(tmp, [daphne.port], static) as nginx:
            ws_url = nginx.base_url.replace("https:", "wss:")
            yield Proxy(nginx.base_url, ws_url, nginx.http_url, daphne, nginx.ca, nginx.access_log)
    finally:
        daphne.stop()


def test_pages_static_files_and_forwarded_headers(proxy: Proxy) -> None:
    with httpx.Client(base_url=proxy.base_url, timeout=10) as client:
        home = client.get("/")
        assert home.status_code == 200
        css_name = re.search(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', home.text)
        assert css_name is not None, home.text

        css = client.get(css_name[1], headers={"Accept-Encoding": "identity"})
        assert css.status_code == 200
        assert css.headers["content-type"].startswith("text/css")
        assert css.content == (ROOT / "static" / "css" / "site.css").read_bytes()
        assert css.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert css.headers["x-content-type-options"] == "nosniff"
        packed = client.get(css_name[1], headers={"Accept-Encoding": "gzip"})
        assert packed.headers["content-encoding"] == "gzip"
        assert packed.content == css.content
        part = client.get(css_name[1], headers={"Accept-Encoding": "identity", "Range": "bytes=10-19"})
        assert part.status_code == 206
        assert part.content == css.content[10:20]
        # A plain name is revalidated every time.
        assert client.get("/static/css/site.css").headers["cache-control"] == "no-cache"
        # Browsers refuse ES modules served under any other type.
        script = client.get("/static/js/pages/room.js")
        assert script.status_code == 200
        assert "javascript" in script.headers["content-type"]
        assert client.get("/static/admin/css/base.css").status_code == 200  # collectstatic ran
        # It was nginx: daphne, with SERVE_STATIC=0, does not serve them.
        assert httpx.get(f"{proxy.daphne.base_url}/static/css/site.css").status_code == 404

        # A browser's login: Origin names the page's https origin with its port. Django
        # accepts it only if the Host (port included) and X-Forwarded-Proto reached it.
        client.get("/accounts/login/")
        form = {"username": "carol", "password": PASSWORD, "csrfmiddlewaretoken": client.cookies["csrftoken"]}
        page = proxy.base_url + "/accounts/login/"
        wrong_scheme = client.post(
            "/accounts/login/", data=form, headers={"Origin": proxy.base_url.replace("https:", "http:")}
        )
        assert wrong_scheme.status_code == 403  # so Django does believe the request came over https
        answer = client.post(
            "/accounts/login/", data=form, headers={"Origin": proxy.base_url, "Referer": page}
        )
        assert answer.status_code == 302, answer.text[:500]

        too_big = client.post("/accounts/login/", content=b"x" * 100_000)
        assert too_big.status_code == 413  # client_max_body_size, refused by nginx

        # The XML upload's location admits imports: a 200 KB file reaches the application
        # (which refuses this guest's upload for its own reason, in JSON).
        upload = client.post(
            "/rooms/demo/mod/import",
            files={"file": ("comments.xml", b"<i>" + b" " * 200_000 + b"</i>")},
            headers={"Accept": "application/json"},
        )
        assert upload.status_code == 403, upload.text[:300]
        assert upload.json()["code"] == "csrf_failed"

    redirect = httpx.get(f"{proxy.http_url}/rooms/demo/?x=1", timeout=10)
    assert redirect.status_code == 301
    # To the HTTPS server's own port, which is not 443 here.
    assert redirect.headers["location"] == f"{proxy.base_url}/rooms/demo/?x=1"


def test_websocket_through_nginx(proxy: Proxy) -> None:
    alice = Peer(proxy, "alice")  # type: ignore[arg-type]
    bob = Peer(proxy, "bob")  # type: ignore[arg-type]
    assert alice.hello["me"]["name"] == "alice"
    assert alice.hello["room"]["slug"] == "demo"
    text = f"through nginx {unique_prefix()}"
    ack = alice.post(text, nonce="ws")
    assert ack["type"] == "ack"
    (event,) = bob.events(1)
    assert (event["seq"], event["text"], event["user"]["name"]) == (ack["seq"], text, "alice")
    alice.close()
    bob.close()

    with (
        pytest.raises(InvalidStatus) as refused,
        connect(f"{proxy.ws_url}/ws/rooms/demo/", additional_headers={"Origin": "https://evil.example"}),
    ):
        pass
    assert refused.value.response.status_code == 403


def sse_fields(lines: Iterator[str]) -> dict[str, str]:
    """The next complete SSE block (up to a blank line), comments skipped, as {field: value}."""
    fields: dict[str, str] = {}
    for line in lines:
        if line == "":
            if fields:
                return fields
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        fields[name] = value.removeprefix(" ")
    raise AssertionError(f"the event stream ended; partial block: {fields}")


@pytest.mark.alone  # a delivery within a second
def test_sse_events_arrive_unbuffered(proxy: Proxy) -> None:
    poster = Peer(proxy, "alice")  # type: ignore[arg-type]
    timeout = httpx.Timeout(10, read=20)  # the server sends a keep-alive at least every 15 s
    with (
        httpx.Client(base_url=proxy.base_url, timeout=timeout) as client,
        client.stream("GET", "/rooms/demo/events") as stream,
    ):
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.iter_lines()
        first = sse_fields(lines)
        assert first.get("retry", "").isdigit()
        if first.get("event") != "hello":
            first = sse_fields(lines)
        assert first["event"] == "hello"

        text = f"sse through nginx {unique_prefix()}"
        posted = time.monotonic()
        ack = poster.post(text, nonce="sse")
        assert ack["type"] == "ack"
        try:
            while True:
                block = sse_fields(lines)
                if block.get("event") == "message" and json.loads(block["data"])["text"] == text:
                    break
        except httpx.ReadTimeout:
            pytest.fail("the posted message never came through nginx: is the SSE stream buffered?")
        delay = time.monotonic() - posted
    assert block["id"] == str(ack["seq"])
    assert json.loads(block["data"])["seq"] == ack["seq"]
    assert delay < 1.0, f"the event took {delay:.2f} s through nginx: is the SSE stream buffered?"
    poster.close()


def test_long_poll_held_and_answered_through_nginx(proxy: Proxy) -> None:
    """The fallback transport: long-poll to read, `POST /rooms/<slug>/messages` to write."""
    cookies = login(proxy.base_url, "bob")
    with (
        httpx.Client(base_url=proxy.base_url, timeout=30) as poller,
        httpx.Client(base_url=proxy.base_url, timeout=10, cookies=cookies) as writer,
    ):
        last_seq = poller.get("/rooms/demo/history", params={"limit": 1}).json()["last_seq"]
        started = time.monotonic()
        empty = poller.get("/rooms/demo/poll", params={"after": last_seq, "timeout": 3})
        held = time.monotonic() - started
        assert empty.status_code == 200, empty.text[:500]
        assert empty.json()["events"] == []
        assert 2.5 <= held < 10, f"held {held:.2f} s"

        with ThreadPoolExecutor(max_workers=1) as pool:
            waiting = pool.submit(poller.get, "/rooms/demo/poll", params={"after": last_seq, "timeout": 20})
            time.sleep(1)  # let it be held
            assert not waiting.done()
            text = f"long-poll through nginx {unique_prefix()}"
            posted = time.monotonic()
            # As the page posts when it has no WebSocket: session cookie, CSRF header, Origin.
            ack = writer.post(
                "/rooms/demo/messages",
                json={"text": text, "nonce": "poll"},
                headers={"X-CSRFToken": cookies["csrftoken"], "Origin": proxy.base_url},
            )
            answer = waiting.result(timeout=10)
            delay = time.monotonic() - posted
    assert ack.status_code == 200, ack.text[:500]
    assert ack.json()["type"] == "ack"
    assert answer.status_code == 200
    events = answer.json()["events"]
    assert [(e["seq"], e["text"]) for e in events] == [(ack.json()["seq"], text)]
    assert delay < 2, f"the held poll answered {delay:.2f} s after the post"


# deploy/nginx.conf's limits per client address, at the door: `limit_conn chat_held 200` on
# WebSocket, SSE and long-poll, and `limit_req zone=chat_connect burst=120` (then 2 a second) on
# new WebSocket and SSE connections.
HELD_PER_ADDRESS = 200
NEW_BURST = 120


async def send_get(nginx: Nginx, path: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A GET through nginx on a connection of its own (HTTP/1.1 over TLS); its reader and writer."""
    port = int(nginx.base_url.rsplit(":", 1)[1])
    context = ssl.create_default_context(cafile=str(nginx.ca))
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    await writer.drain()
    return reader, writer


async def status_within(reader: asyncio.StreamReader, seconds: float) -> int | None:
    """The answer's status, or None if none came within `seconds` (the request is held)."""
    try:
        line = await asyncio.wait_for(reader.readline(), seconds)
    except TimeoutError:
        return None
    return int(line.split()[1])


async def closed(writers: list[asyncio.StreamWriter]) -> None:
    """Drop the connections at once (a TLS close would wait for nginx's close_notify)."""
    for writer in writers:
        writer.transport.abort()
    await asyncio.sleep(0)


@pytest.mark.alone  # holds 200 connections, and opens new ones faster than nginx lets through
async def test_nginx_caps_held_and_new_connections_per_address(proxy: Proxy, tmp_path: Path) -> None:
    """One address holds at most 200 polls and streams through nginx, and opens new streams at
    most 120 at once, then 2 a second: past either, nginx answers 429 itself. daphne's own caps
    are far higher in these tests (tests/e2e/conftest.py), so every 429 here is nginx's."""
    static = tmp_path / "staticfiles"
    static.mkdir()
    # An nginx of its own (its limit zones start empty), in front of the module's daphne.
    with running_nginx(tmp_path, [proxy.daphne.port], static) as nginx:
        history = await asyncio.to_thread(
            httpx.get, f"{nginx.base_url}/rooms/demo/history", params={"limit": 1}
        )
        poll = f"/rooms/demo/poll?after={history.json()['last_seq']}&timeout=50"
        opened = await asyncio.gather(*(send_get(nginx, poll) for _ in range(HELD_PER_ADDRESS)))
        writers = [writer for _, writer in opened]
        try:
            statuses = await asyncio.gather(*(status_within(reader, 3) for reader, _ in opened))
            assert statuses == [None] * HELD_PER_ADDRESS  # all held, waiting for an event

            reader, writer = await send_get(nginx, poll)
            writers.append(writer)
            assert await status_within(reader, 5) == 429
            refusal = await asyncio.wait_for(reader.read(4096), 5)
            assert b"nginx" in refusal  # nginx's own error page, not daphne's JSON

            # A place comes back when a held poll ends: the cap is on connections open at once.
            writers.remove(opened[0][1])
            await closed([opened[0][1]])
            again: int | None = 429
            for _ in range(20):
                await asyncio.sleep(0.25)
                reader, writer = await send_get(nginx, poll)
                writers.append(writer)
                again = await status_within(reader, 2)
                if again is None:
                    break
            assert again is None, "no place came back after a held poll ended"
        finally:
            await closed(writers)
        await asyncio.sleep(1)

        # New SSE streams, each closed as soon as it is answered: the burst, then 429.
        answered: list[int | None] = []
        started = time.monotonic()
        for _ in range(NEW_BURST + 20):
            reader, writer = await send_get(nginx, "/rooms/demo/events")
            answered.append(await status_within(reader, 5))
            await closed([writer])
        elapsed = time.monotonic() - started
        print(
            f"\nthrough nginx: {HELD_PER_ADDRESS} polls held, the next refused with 429; "
            f"{answered.count(200)} of {len(answered)} new streams in {elapsed:.1f} s, "
            f"{answered.count(429)} refused with 429"
        )
        assert answered[:NEW_BURST] == [200] * NEW_BURST
        assert set(answered) == {200, 429}
        assert answered.count(200) <= NEW_BURST + 1 + 2 * elapsed


def test_the_overlay_key_reaches_neither_access_log(proxy: Proxy) -> None:
    """An overlay's address carries the room's key: nginx logs the path alone (and the Referer
    cut at its `?`), daphne logs the key redacted."""
    secret = f"overlay-secret-{unique_prefix()}"
    overlay = f"{proxy.base_url}/rooms/demo/overlay?key={secret}"
    with httpx.Client(base_url=proxy.base_url, timeout=10) as client:
        assert client.get("/rooms/demo/overlay", params={"key": secret}).status_code == 200
        # What the overlay's script fetches names the overlay in its Referer.
        assert client.get("/rooms/demo/history", headers={"Referer": overlay}).status_code == 200
        poll = client.get("/rooms/demo/poll", params={"timeout": 0, "key": secret})
        assert poll.status_code == 200
    deadline = time.monotonic() + 5
    while "/rooms/demo/poll " not in proxy.access_log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)  # nginx writes the line once the response is sent
    nginx_log = proxy.access_log.read_text()
    assert '"GET /rooms/demo/overlay HTTP/' in nginx_log
    assert '"GET /rooms/demo/poll HTTP/' in nginx_log
    assert f'"{proxy.base_url}/rooms/demo/overlay?[redacted]"' in nginx_log
    assert secret not in nginx_log
    daphne_log = proxy.daphne.log()
    assert "/rooms/demo/overlay?key=[redacted]" in daphne_log
    assert secret not in daphne_log


def test_http2_is_offered(proxy: Proxy) -> None:
    """`listen ... http2`: browsers multiplex SSE and long-polls over one connection."""
    context = ssl.create_default_context(cafile=str(proxy.ca))
    context.set_alpn_protocols(["h2", "http/1.1"])
    port = int(re.sub(r".*:", "", proxy.base_url))
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        assert tls.selected_alpn_protocol() == "h2"


class Tally:
    """What the clients of a rolling restart saw: answers by kind, failures, and the seqs each
    reading client received (each must get every posted seq once, in order)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.answers: Counter[str] = Counter()
        self.failures: list[str] = []
        self.seen: dict[str, list[int]] = {"websocket": [], "sse": [], "long-poll": []}
        self.posted: list[int] = []
        self.reconnects: Counter[str] = Counter()

    def answer(self, kind: str, status: int, detail: str = "") -> None:
        with self.lock:
            self.answers[f"{kind} {status}"] += 1
            if status != 200:
                self.failures.append(f"{kind}: {status} {detail[:200]}")

    def fail(self, kind: str, detail: str) -> None:
        with self.lock:
            self.failures.append(f"{kind}: {detail[:300]}")

    def last(self, reader: str, start: int) -> int:
        with self.lock:
            seen = self.seen[reader]
            return seen[-1] if seen else start

    def saw(self, reader: str, seqs: list[int]) -> None:
        with self.lock:
            self.seen[reader].extend(seqs)


def read_websocket(nginx: Nginx, slug: str, start: int, tally: Tally, stop: threading.Event) -> None:
    """A viewer that reconnects at once when its socket ends, resuming after its last seq."""
    ws_url = nginx.base_url.replace("https:", "wss:")
    while not stop.is_set():
        after = tally.last("websocket", start)
        opened = False
        try:
            with connect(
                f"{ws_url}/ws/rooms/{slug}/?after={after}",
                additional_headers={"Origin": nginx.base_url},
                open_timeout=10,
            ) as ws:
                opened = True
                tally.answer("websocket handshake", 200)
                while not stop.is_set():
                    try:
                        frame = json.loads(ws.recv(timeout=1))
                    except TimeoutError:
                        continue
                    if frame["type"] == "events":
                        tally.saw("websocket", [event["seq"] for event in frame["events"]])
                    elif frame["type"] == "reset":
                        tally.fail("websocket", f"reset {frame}")
        except InvalidStatus as refused:
            tally.answer("websocket handshake", refused.response.status_code)
        except (ConnectionClosed, OSError) as error:
            if not opened:  # a handshake that failed without an answer fails a client too
                tally.fail("websocket handshake", repr(error))
        tally.reconnects["websocket"] += 1


def read_sse(nginx: Nginx, slug: str, start: int, tally: Tally, stop: threading.Event) -> None:
    """EventSource's way: reconnect when the stream ends, with the last id as Last-Event-ID."""
    timeout = httpx.Timeout(10, read=20)
    with httpx.Client(base_url=nginx.base_url, timeout=timeout) as client:
        while not stop.is_set():
            last_id = str(tally.last("sse", start))
            try:
                with client.stream(
                    "GET", f"/rooms/{slug}/events", headers={"Last-Event-ID": last_id}
                ) as stream:
                    tally.answer("sse", stream.status_code)
                    if stream.status_code != 200:
                        continue
                    lines = stream.iter_lines()
                    while not stop.is_set():
                        block = sse_fields(lines)
                        if block.get("event") == "reset":
                            tally.fail("sse", f"reset {block}")
                        elif "id" in block:
                            tally.saw("sse", [int(block["id"])])
            except (httpx.HTTPError, AssertionError):  # the stream ended (sse_fields) or was cut
                pass
            tally.reconnects["sse"] += 1


def read_long_poll(nginx: Nginx, slug: str, start: int, tally: Tally, stop: threading.Event) -> None:
    with httpx.Client(base_url=nginx.base_url, timeout=30) as client:
        while not stop.is_set():
            after = tally.last("long-poll", start)
            try:
                answer = client.get(f"/rooms/{slug}/poll", params={"after": after, "timeout": 2})
            except httpx.HTTPError as error:
                tally.fail("long-poll", repr(error))
                continue
            tally.answer("long-poll", answer.status_code, answer.text)
            if answer.status_code == 200:
                body = answer.json()
                if "reset" in body:
                    tally.fail("long-poll", f"reset {body}")
                tally.saw("long-poll", [event["seq"] for event in body["events"]])


def post_messages_over_http(
    nginx: Nginx, slug: str, cookies: dict[str, str], tally: Tally, stop: threading.Event
) -> None:
    headers = {"X-CSRFToken": cookies["csrftoken"], "Origin": nginx.base_url}
    with httpx.Client(base_url=nginx.base_url, timeout=30, cookies=cookies) as client:
        nonce = 0
        while not stop.is_set():
            nonce += 1
            try:
                answer = client.post(
                    f"/rooms/{slug}/messages",
                    json={"text": f"m{nonce}", "nonce": str(nonce)},
                    headers=headers,
                )
            except httpx.HTTPError as error:
                tally.fail("post", repr(error))
                continue
            tally.answer("post", answer.status_code, answer.text)
            if answer.status_code == 200:
                with tally.lock:
                    tally.posted.append(answer.json()["seq"])
            time.sleep(0.1)


def browse_pages(nginx: Nginx, slug: str, tally: Tally, stop: threading.Event) -> None:
    with httpx.Client(base_url=nginx.base_url, timeout=30) as client:
        while not stop.is_set():
            for path in ("/", f"/rooms/{slug}/", f"/rooms/{slug}/history?limit=5"):
                try:
                    answer = client.get(path)
                except httpx.HTTPError as error:
                    tally.fail("page", repr(error))
                    continue
                tally.answer("page", answer.status_code, answer.text)
            time.sleep(0.05)


@pytest.mark.redis
@pytest.mark.alone  # restarts servers under traffic
@pytest.mark.timeout(180)
def test_rolling_restart_fails_no_request(e2e_env: dict[str, str], redis_url: str, tmp_path: Path) -> None:
    """docs/OPERATIONS.md's rolling restart behind deploy/nginx.conf, under traffic: two daphne
    processes on one database and Redis, each stopped (SIGTERM) and started again once the other
    answers, while clients browse, post, and read over WebSocket, SSE and long-poll. No request
    fails, and every reader gets every posted message once, in order."""
    require_nginx()
    slug = "restarts"
    create_rooms(e2e_env, {slug: ["--title", "Rolling restarts"]})
    env = proxied_env(e2e_env, REDIS_URL=redis_url, REDIS_PREFIX=unique_prefix())
    static = tmp_path / "staticfiles"
    collect_static(env, static)
    daphnes = [ProxiedDaphne(env, tmp_path / f"daphne-{n}.log") for n in range(2)]
    tally = Tally()
    stop, stop_writing = threading.Event(), threading.Event()
    threads: list[threading.Thread] = []
    try:
        for daphne in daphnes:
            daphne.start()
        with running_nginx(tmp_path, [daphne.port for daphne in daphnes], static) as nginx:
            cookies = login(nginx.base_url, "bob")
            history = httpx.get(f"{nginx.base_url}/rooms/{slug}/history", params={"limit": 1})
            start = history.json()["last_seq"]
            workers: list[Callable[[], None]] = [
                lambda: read_websocket(nginx, slug, start, tally, stop),
                lambda: read_sse(nginx, slug, start, tally, stop),
                lambda: read_long_poll(nginx, slug, start, tally, stop),
            ]
            writers: list[Callable[[], None]] = [
                lambda: post_messages_over_http(nginx, slug, cookies, tally, stop_writing),
                lambda: browse_pages(nginx, slug, tally, stop_writing),
            ]
            readers = [threading.Thread(target=work, daemon=True) for work in workers]
            posters = [threading.Thread(target=work, daemon=True) for work in writers]
            threads = readers + posters
            for thread in threads:
                thread.start()
            time.sleep(2)
            restarts = []
            for n, old in enumerate(daphnes):
                began = time.monotonic()
                old.stop()  # SIGTERM, as systemctl restart sends
                stopped = time.monotonic() - began
                daphnes[n] = ProxiedDaphne(env, tmp_path / f"daphne-{n}-restarted.log")
                daphnes[n].port = old.port
                daphnes[n].start()  # returns once it answers /healthz, as the procedure waits
                up = time.monotonic() - began
                restarts.append(f"process {n}: stopped in {stopped:.2f} s, answering again after {up:.2f} s")
                time.sleep(1)
            time.sleep(2)
            stop_writing.set()
            for thread in posters:
                thread.join(timeout=35)
            posted = sorted(tally.posted)
            last = posted[-1]
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and any(tally.last(r, start) < last for r in tally.seen):
                time.sleep(0.1)
            stop.set()
            wake = httpx.post(  # a last message wakes the readers so they see the stop
                f"{nginx.base_url}/rooms/{slug}/messages",
                json={"text": "the end", "nonce": "end"},
                headers={"X-CSRFToken": cookies["csrftoken"], "Origin": nginx.base_url},
                cookies=cookies,
            )
            tally.answer("post", wake.status_code, wake.text)
            for thread in threads:
                thread.join(timeout=25)
    finally:
        stop.set()
        stop_writing.set()
        for daphne in daphnes:
            daphne.stop()

    print()
    print("\n".join(restarts))
    print("answers:", dict(sorted(tally.answers.items())))
    print("reconnects:", dict(tally.reconnects), "posted:", len(posted))
    print("received:", {reader: len(seqs) for reader, seqs in tally.seen.items()})
    print("failures:", len(tally.failures), tally.failures[:10])
    assert tally.failures == []
    assert len(posted) >= 20
    assert tally.answers["page 200"] >= 50
    for reader, seqs in tally.seen.items():
        before_end = [seq for seq in seqs if seq <= last]
        assert before_end == list(range(start + 1, last + 1)), (reader, set(posted) - set(seqs))
    assert tally.reconnects["websocket"] >= 1  # it was cut when its process stopped, and came back
