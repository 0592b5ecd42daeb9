"""Static files as a production daphne serves them (DEBUG=0, SERVE_STATIC=1): hashed names in the
pages and in the modules' imports, cached for a year, compressed, and seekable (206)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Response

from .browsing import Contexts, open_watch
from .conftest import DEMO_ROOM, DaphneServer

pytestmark = pytest.mark.e2e

HASHED = re.compile(r"/static/[\w/.-]+\.[0-9a-f]{12}\.(js|css|svg)")
YEAR = "max-age=315360000"  # WhiteNoise's "forever" for a hashed name (ten years)


@pytest.fixture
def production(start_server: Callable[..., DaphneServer]) -> DaphneServer:
    return start_server(DEBUG="0", SECRET_KEY=secrets.token_urlsafe(50))


def test_pages_name_hashed_files_cached_for_good(production: DaphneServer) -> None:
    with httpx.Client(base_url=production.base_url, timeout=10) as client:
        page = client.get(f"/rooms/{DEMO_ROOM}/watch")
        assert page.status_code == 200
        names = set(HASHED.findall(page.text))
        assert {"js", "css", "svg"} <= names, page.text
        script = re.search(r'src="(/static/js/pages/watch\.[0-9a-f]{12}\.js)"', page.text)
        assert script is not None
        module = client.get(script[1], headers={"Accept-Encoding": "identity"})
        assert module.status_code == 200
        assert module.headers["content-type"].startswith("text/javascript")
        assert YEAR in module.headers["cache-control"]
        assert "immutable" in module.headers["cache-control"]
        assert module.headers["x-content-type-options"] == "nosniff"
        # Its own imports name hashed modules too: a cached module never meets a newer one.
        imports = re.findall(r'from "(\.\.?/[^"]+)"', module.text)
        assert imports
        assert all(re.search(r"\.[0-9a-f]{12}\.js$", name) for name in imports), imports


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_text_assets_are_compressed(production: DaphneServer, encoding: str) -> None:
    with httpx.Client(base_url=production.base_url, timeout=10) as client:
        page = client.get("/")
        css = re.search(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', page.text)
        assert css is not None
        plain = client.get(css[1], headers={"Accept-Encoding": "identity"})
        packed = client.get(css[1], headers={"Accept-Encoding": encoding})
        assert packed.headers["content-encoding"] == encoding
        assert int(packed.headers["content-length"]) < len(plain.content) / 2
        assert packed.content == plain.content  # httpx decodes it


def test_a_range_request_is_answered_206(production: DaphneServer) -> None:
    with httpx.Client(base_url=production.base_url, timeout=10) as client:
        page = client.get("/")
        css = re.search(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', page.text)
        assert css is not None
        plain = {"Accept-Encoding": "identity"}
        whole = client.get(css[1], headers=plain).content
        part = client.get(css[1], headers={**plain, "Range": "bytes=100-199"})
        assert part.status_code == 206
        assert part.headers["content-range"] == f"bytes 100-199/{len(whole)}"
        assert part.content == whole[100:200]
        tail = client.get(css[1], headers={**plain, "Range": f"bytes={len(whole) - 10}-"})
        assert tail.status_code == 206
        assert tail.content == whole[-10:]
        beyond = client.get(css[1], headers={**plain, "Range": f"bytes={len(whole) + 5}-"})
        assert beyond.status_code == 416


def test_development_serves_plain_names_without_collectstatic(
    start_server: Callable[..., DaphneServer],
) -> None:
    server = start_server(STATIC_ROOT="/nonexistent-static-root")  # DEBUG=1: straight from static/
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        page = client.get("/")
        assert 'href="/static/css/site.css"' in page.text
        css = client.get("/static/css/site.css", headers={"Range": "bytes=0-9"})
        assert css.status_code == 206
        assert len(css.content) == 10


@pytest.mark.browser
def test_the_watch_page_loads_every_module_by_its_hashed_name(
    contexts: Contexts, production: DaphneServer
) -> None:
    context = contexts.new(production.base_url)
    answers: list[Response] = []
    context.on("response", lambda answer: answers.append(answer))
    open_watch(context, DEMO_ROOM)  # live: every module loaded and ran
    statics = [answer for answer in answers if "/static/" in answer.url]
    modules = [answer.url for answer in statics if answer.url.endswith(".js")]
    assert len(modules) > 10, modules
    assert all(HASHED.search(url) for url in modules), modules
    assert [answer.url for answer in statics if answer.status != 200] == []
