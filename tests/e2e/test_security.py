"""Security against a real daphne: cross-site WebSocket handshakes and writes refused, the
ASGI-level streams read-only, production HTTPS settings (the health check never redirected),
and login throttling shared by two processes through Redis."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from .conftest import PASSWORD, DaphneServer, cookie_header, login, unique_prefix
from .test_nginx import Proxy, proxy  # noqa: F401  (the module's nginx in front of daphne)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

EVIL = "https://evil.example"


def history_texts(server: DaphneServer) -> list[str]:
    answer = httpx.get(f"{server.base_url}/rooms/demo/history", params={"limit": 200}, timeout=10)
    return [event.get("text") for event in answer.json()["events"]]


@pytest.mark.parametrize(
    ("origin", "status"),
    [
        (EVIL, 403),
        ("null", 400),  # a sandboxed frame or a file: daphne's WebSocket layer refuses it first
        ("http://127.0.0.1:1", 403),  # the same host on another port is another origin
        ("http://127.0.0.1.evil.example", 403),
    ],
)
def test_a_websocket_from_another_origin_is_refused_with_the_victims_cookies(
    server: DaphneServer, origin: str, status: int
) -> None:
    cookies = cookie_header(login(server.base_url, "alice"))
    with (
        pytest.raises(InvalidStatus) as refused,
        connect(f"{server.ws_url}/ws/rooms/demo/", additional_headers={"Origin": origin, "Cookie": cookies}),
    ):
        pass
    assert refused.value.response.status_code == status
    # The control: the same cookies from the site's own page get a signed-in socket.
    with connect(
        f"{server.ws_url}/ws/rooms/demo/",
        additional_headers={"Origin": server.base_url, "Cookie": cookies},
    ) as socket:
        hello = json.loads(socket.recv(timeout=10))
        assert hello["type"] == "hello"
        assert hello["me"]["name"] == "alice"


def test_cross_site_writes_over_http_change_nothing(server: DaphneServer) -> None:
    cookies = login(server.base_url, "alice")
    marker = unique_prefix()
    headers = {"Cookie": cookie_header(cookies), "Origin": EVIL}
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        # A page on another site: the cookies ride along, the token it cannot read.
        forged = client.post("/rooms/demo/messages", json={"text": f"{marker} forged"}, headers=headers)
        assert forged.status_code == 403
        assert forged.json()["code"] == "csrf_failed"
        # Even with a stolen token, the Origin gives it away.
        stolen = {**headers, "X-CSRFToken": cookies["csrftoken"]}
        assert (
            client.post("/rooms/demo/messages", json={"text": f"{marker} stolen"}, headers=stolen).status_code
            == 403
        )
        # DPlayer's API takes no token; its Origin check refuses the other site.
        dplayer = client.post(
            "/dplayer/v3/", json={"id": "demo", "text": f"{marker} dplayer"}, headers=headers
        )
        assert dplayer.status_code == 403
        assert dplayer.json()["error"] == "csrf_failed"
        # The control: from the site's own page, the same post goes through.
        own = {
            "Cookie": cookie_header(cookies),
            "Origin": server.base_url,
            "X-CSRFToken": cookies["csrftoken"],
        }
        assert (
            client.post("/rooms/demo/messages", json={"text": f"{marker} own"}, headers=own).status_code
            == 200
        )
    assert [text for text in history_texts(server) if text and text.startswith(marker)] == [f"{marker} own"]


@pytest.mark.parametrize("path", ["/rooms/demo/events", "/rooms/demo/poll"])
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_the_streams_routed_before_django_only_read(server: DaphneServer, path: str, method: str) -> None:
    """SSE and long-poll bypass Django's middleware (config/asgi.py); they accept GET only."""
    cookies = login(server.base_url, "alice")
    answer = httpx.request(
        method,
        f"{server.base_url}{path}",
        headers={"Cookie": cookie_header(cookies), "Origin": EVIL},
        content=b'{"text": "x"}',
        timeout=10,
    )
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET"


class ProductionDaphne(DaphneServer):
    """daphne as behind nginx (`--proxy-headers`), up when /healthz answers."""

    args = ("--proxy-headers",)
    ready_path = "/healthz"
    ready_headers: ClassVar[dict[str, str]] = {"Host": "chat.example"}

    def get(self, path: str, **headers: str) -> httpx.Response:
        return httpx.get(f"{self.base_url}{path}", headers={"Host": "chat.example", **headers}, timeout=10)


def test_production_settings_redirect_everything_but_the_health_check(
    e2e_env: dict[str, str], tmp_path: Path
) -> None:
    env = {
        **e2e_env,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "chat.example",
        "SECURE_SSL_REDIRECT": "1",  # the production default (the e2e environment turns it off)
    }
    server = ProductionDaphne(env, tmp_path / "daphne.log").start()
    try:
        # A load balancer probing a process over plain HTTP.
        health = server.get("/healthz")
        assert health.status_code == 200
        assert health.json() == {"status": "ok", "database": "ok", "channel_layer": "ok"}
        # Everything else over plain HTTP goes to HTTPS.
        page = server.get("/rooms/demo/?x=1")
        assert page.status_code == 301
        assert page.headers["location"] == "https://chat.example/rooms/demo/?x=1"
        assert (
            httpx.post(
                f"{server.base_url}/accounts/login/", headers={"Host": "chat.example"}, timeout=10
            ).status_code
            == 301
        )
        # Through a proxy that terminated TLS (daphne --proxy-headers believes it): served, with HSTS.
        proxied = server.get(
            "/rooms/demo/", **{"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
        )
        assert proxied.status_code == 200
        assert proxied.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains; preload"
        assert "script-src 'self'" in proxied.headers["content-security-policy"]
        assert "secure" in proxied.headers["set-cookie"].lower()  # the CSRF cookie of the page
        # A host name not in ALLOWED_HOSTS is refused, the health check included: probe with
        # the site's Host header (docs/OPERATIONS.md).
        assert server.get("/healthz", Host="127.0.0.1").status_code == 400
    finally:
        server.stop()


@pytest.mark.redis
def test_failed_logins_on_one_process_lock_the_username_on_another(
    start_server: Callable[..., DaphneServer], redis_url: str
) -> None:
    env = {
        "REDIS_URL": redis_url,
        "REDIS_PREFIX": unique_prefix(),
        "CHAT_LOGIN_FAILURE_RATE": "3/60",
        "CHAT_LOGIN_FAILURE_RATE_IP": "100/60",
    }
    one, two = start_server(**env), start_server(**env)

    def attempt(server: DaphneServer, password: str) -> httpx.Response:
        with httpx.Client(base_url=server.base_url, timeout=10) as client:
            client.get("/accounts/login/")
            return client.post(
                "/accounts/login/",
                data={
                    "username": "carol",
                    "password": password,
                    "csrfmiddlewaretoken": client.cookies["csrftoken"],
                },
                headers={"Origin": server.base_url},
            )

    for server in (one, two, one):
        assert attempt(server, "wrong").status_code == 200  # the form again
    throttled = attempt(two, "wrong")
    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) >= 1
    assert "Too many failed logins" in throttled.text
    refused = attempt(one, PASSWORD)  # the right password: locked all the same, on both
    assert refused.status_code == 429
    assert "sessionid" not in refused.cookies


def test_through_nginx_the_health_check_answers_plain_http_and_pages_carry_the_headers(
    proxy: Proxy,  # noqa: F811  (the fixture imported above)
) -> None:
    """deploy/nginx.conf with DEBUG=0 behind it: a balancer probes /healthz over plain HTTP;
    everything else on port 80 is redirected; HTTPS pages carry the application's headers."""
    health = httpx.get(f"{proxy.http_url}/healthz", timeout=10)
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "database": "ok", "channel_layer": "ok"}
    assert httpx.get(f"{proxy.http_url}/", timeout=10).status_code == 301
    with httpx.Client(base_url=proxy.base_url, timeout=10) as client:
        page = client.get("/accounts/login/")
        assert page.status_code == 200
        assert page.headers["strict-transport-security"].startswith("max-age=31536000")
        assert page.headers.get_list("strict-transport-security") == [
            page.headers["strict-transport-security"]
        ]
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert page.headers["x-frame-options"] == "DENY"
        assert "; secure" in page.headers["set-cookie"].lower()
        assert client.get("/static/js/pages/room.js").headers["x-content-type-options"] == "nosniff"
