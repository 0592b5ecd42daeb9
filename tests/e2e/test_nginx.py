"""deploy/nginx.conf run by the real nginx in front of a real daphne, over HTTPS.

The test renders the example configuration itself (only the values its header marks as
replaced by this test), includes it in a minimal main configuration like Debian's, and checks
through the proxy: pages and static files, WebSocket, server-sent events arriving unbuffered,
and long-polls held past their timeout without a proxy error.
"""

from __future__ import annotations

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
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from ..conftest import unavailable
from .conftest import PASSWORD, ROOT, DaphneServer, free_port, login, manage, unique_prefix, wait_until_up
from .test_websocket import Peer

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

NGINX = Path("/usr/sbin/nginx")  # Debian's package (apt-get install -y nginx)
MIME_TYPES = Path("/etc/nginx/mime.types")  # shipped with it; Debian's nginx.conf includes it
DEPLOY_CONF = ROOT / "deploy" / "nginx.conf"
# Strings of deploy/nginx.conf the test replaces (its header lists them too).
DAPHNE_PLACEHOLDERS = ("server 127.0.0.1:8001;", "server 127.0.0.1:8002;")
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


@pytest.fixture(scope="module")
def proxy(e2e_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    require_nginx()
    tmp = tmp_path_factory.mktemp("nginx")
    static = tmp / "staticfiles"
    env = {**e2e_env, "DEBUG": "0", "SECRET_KEY": "nginx-test-" + unique_prefix(), "SERVE_STATIC": "0"}
    # `manage.py collectstatic`, into the test's directory rather than the checkout's.
    manage(
        env,
        "shell",
        "-c",
        "from django.conf import settings\n"
        "from django.core.management import call_command\n"
        f"settings.STATIC_ROOT = {str(static)!r}\n"
        "call_command('collectstatic', interactive=False, verbosity=0)\n",
    )
    ca, chain, key = make_certificate(tmp)
    daphne = ProxiedDaphne(env, tmp / "daphne.log")
    nginx: subprocess.Popen[bytes] | None = None
    saved_cert_file = os.environ.get("SSL_CERT_FILE")
    try:
        daphne.start()
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
        replacements.update({line: f"server 127.0.0.1:{daphne.port};" for line in DAPHNE_PLACEHOLDERS})
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
        yield Proxy(
            base_url,
            f"wss://127.0.0.1:{https_port}",
            f"http://127.0.0.1:{http_port}",
            daphne,
            ca,
            tmp / "chat.access.log",
        )
    finally:
        if saved_cert_file is None:
            os.environ.pop("SSL_CERT_FILE", None)
        else:
            os.environ["SSL_CERT_FILE"] = saved_cert_file
        if nginx is not None:
            stop(nginx)
        daphne.stop()


def test_pages_static_files_and_forwarded_headers(proxy: Proxy) -> None:
    with httpx.Client(base_url=proxy.base_url, timeout=10) as client:
        home = client.get("/")
        assert home.status_code == 200
        assert "/static/css/site.css" in home.text

        css = client.get("/static/css/site.css")
        assert css.status_code == 200
        assert css.headers["content-type"].startswith("text/css")
        assert css.content == (ROOT / "static" / "css" / "site.css").read_bytes()
        assert css.headers["cache-control"] == "no-cache"
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
