"""Every page under its Content-Security-Policy in a real Chromium, against a real daphne with
DEBUG off: not one violation (neither a `securitypolicyviolation` event nor a console report),
and each page still does its job. The last test shows that the policy is enforced and that
these listeners do see a violation when there is one."""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, expect

from bench.media import media_server

from .browsing import LIVE_MS, Contexts
from .conftest import PASSWORD, Site, create_rooms, manage, running_server

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

OWNER = "alice"

# Runs before the page's own scripts in every document (Playwright injects it outside the
# page's policy) and reports each violation to Python, across navigations.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportCspViolation({
    page: location.pathname,
    directive: event.effectiveDirective,
    blocked: event.blockedURI,
    source: event.sourceFile,
    line: event.lineNumber,
    sample: event.sample,
    disposition: event.disposition,
  });
}, true);
"""


@dataclass
class Violations:
    events: list[dict[str, Any]] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    def clear(self) -> None:
        self.events.clear()
        self.console.clear()

    def assert_none(self) -> None:
        assert self.events == [], self.events
        assert self.console == [], self.console


@dataclass
class PolicySite(Site):
    video_url: str = ""  # the room's video, on another origin

    @property
    def room(self) -> str:
        return self.rooms["policy"]


@pytest.fixture(scope="module")
def site(e2e_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[PolicySite]:
    """DEBUG off as in production (plain HTTP on 127.0.0.1, so no redirect and cookies a
    browser sends over HTTP); a room of alice's whose video lives on another origin."""
    room = f"csp-{uuid.uuid4().hex[:8]}"
    env = {
        **e2e_env,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
    }
    with media_server(120) as video_url:
        video = ["--video-url", video_url, "--duration-ms", "120000"]
        create_rooms(env, {room: ["--title", "Policy room", "--owner", OWNER, *video]})
        with running_server(env, tmp_path_factory.mktemp("csp")) as server:
            yield PolicySite(server, {"policy": room}, viewport=(1280, 900), video_url=video_url)


def new_context(
    contexts: Contexts, site: PolicySite, violations: Violations, user: str | None = None
) -> BrowserContext:
    """A fresh browser profile whose pages report every policy violation and every console error."""
    context = site.browse(contexts, user)
    context.expose_function("reportCspViolation", lambda event: violations.events.append(event))
    context.add_init_script(REPORT_VIOLATIONS)

    def on_console(message: ConsoleMessage) -> None:
        # Policy reports, and every other error a page logs (a failed request, the icon too).
        if message.type == "error" or "Content Security Policy" in message.text:
            violations.console.append(f"{message.location.get('url')}: {message.text}")

    context.on("page", lambda page: page.on("console", on_console))
    return context


def settle(page: Page) -> None:
    """Let late work (fonts, timers, a frame or two) happen before counting violations."""
    page.wait_for_timeout(300)
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")


def expect_policy(page: Page) -> None:
    """The page really was served with the policy (not merely a page without one)."""
    response = page.request.get(page.url)
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self';" in policy, policy
    assert "style-src 'self';" in policy, policy


@pytest.fixture
def violations() -> Iterator[Violations]:
    found = Violations()
    yield found
    found.assert_none()


def test_home_login_and_signup_pages(contexts: Contexts, site: PolicySite, violations: Violations) -> None:
    context = new_context(contexts, site, violations)
    page = context.new_page()
    page.goto("/")
    expect(page.get_by_role("heading", name="Rooms")).to_be_visible()
    expect(page.get_by_text("Policy room")).to_be_visible()
    expect_policy(page)
    page.goto("/accounts/signup/")
    expect(page.get_by_role("heading", name="Sign up")).to_be_visible()
    page.goto("/accounts/login/?next=/")
    page.get_by_label("Username").fill(OWNER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{site.base_url}/")
    expect(page.get_by_test_id("current-user")).to_have_text(OWNER)
    # Signed in, home offers the room form; it posts (form-action 'self') and lands in the room.
    slug = f"made-{uuid.uuid4().hex[:6]}"
    page.get_by_label("Address").fill(slug)
    page.get_by_label("Title").fill("Made under the policy")
    page.get_by_role("button", name=re.compile("Create")).click()
    page.wait_for_url(f"**/rooms/{slug}/")
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "live")
    settle(page)


@pytest.mark.parametrize("transport", ["websocket", "sse", "longpoll"])
def test_room_page_posts_and_receives(
    contexts: Contexts, site: PolicySite, violations: Violations, transport: str
) -> None:
    page = new_context(contexts, site, violations, user=OWNER).new_page()
    page.goto(f"/rooms/{site.room}/?transport={transport}")
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "live")
    expect_policy(page)
    text = f"under the policy over {transport} {uuid.uuid4().hex[:6]}"
    box = page.get_by_test_id("message-input")
    box.fill(text)
    box.press("Enter")
    expect(box).to_have_value("", timeout=LIVE_MS)
    expect(page.locator(".msg .msg-text", has_text=text)).to_have_count(1, timeout=LIVE_MS)
    settle(page)


def test_watch_page_plays_the_video_and_draws_comments(
    contexts: Contexts, site: PolicySite, violations: Violations
) -> None:
    page = new_context(contexts, site, violations, user=OWNER).new_page()
    page.goto(f"/rooms/{site.room}/watch")
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "live")
    expect_policy(page)
    # The video comes from another origin (media-src), and its metadata loads.
    assert page.get_by_test_id("video").get_attribute("src") == site.video_url
    page.wait_for_function("() => document.querySelector('[data-testid=video]').readyState >= 1")

    text = f"drawn under the policy {uuid.uuid4().hex[:6]}"
    page.get_by_test_id("danmaku-mode").select_option("top")
    page.get_by_test_id("danmaku-size").select_option("large")
    box = page.get_by_test_id("danmaku-input")
    box.fill(text)
    box.press("Enter")
    expect(box).to_have_value("", timeout=LIVE_MS)
    page.wait_for_function(
        "text => window.danmaku.snapshot().comments.some((c) => c.text === text)", arg=text, timeout=LIVE_MS
    )
    comment = page.evaluate("text => window.danmaku.snapshot().comments.find((c) => c.text === text)", text)
    painted = page.evaluate(
        """([x, y, w, h]) => {
          const canvas = document.querySelector('[data-testid="danmaku-canvas"]');
          const ratio = canvas.width / canvas.clientWidth;
          const [sx, sy, sw, sh] = [x, y, w, h].map((value) => Math.max(1, Math.round(value * ratio)));
          const data = canvas.getContext("2d").getImageData(sx, sy, sw, sh).data;
          let opaque = 0;
          for (let i = 3; i < data.length; i += 4) if (data[i] > 200) opaque += 1;
          return opaque;
        }""",
        [comment["x"], comment["y"], comment["w"], comment["h"]],
    )
    assert painted > 100
    # The settings panel (inputs styled by the stylesheet, values set from script).
    page.get_by_text("Comment display").click()
    page.get_by_test_id("setting-opacity").fill("0.5")
    expect(page.get_by_test_id("settings-status")).not_to_have_text("", timeout=LIVE_MS)
    settle(page)


def test_overlay_draws_comments(contexts: Contexts, site: PolicySite, violations: Violations) -> None:
    context = new_context(contexts, site, violations)
    overlay = context.new_page()
    overlay.goto(f"/rooms/{site.room}/overlay")
    expect(overlay.get_by_test_id("overlay")).to_have_attribute("data-state", "live")
    expect_policy(overlay)
    chat = context.new_page()
    chat.goto(f"/rooms/{site.room}/overlay?chat=1")
    expect(chat.get_by_test_id("overlay")).to_have_attribute("data-state", "live")
    writer = new_context(contexts, site, violations, user=OWNER).new_page()
    writer.goto(f"/rooms/{site.room}/watch")
    expect(writer.get_by_test_id("connection-state")).to_have_attribute("data-state", "live")
    text = f"overlay under the policy {uuid.uuid4().hex[:6]}"
    box = writer.get_by_test_id("danmaku-input")
    box.fill(text)
    box.press("Enter")
    overlay.wait_for_function(
        "text => window.danmaku.snapshot().comments.some((c) => c.text === text)", arg=text, timeout=LIVE_MS
    )
    expect(chat.get_by_test_id("messages").locator(".msg-text", has_text=text)).to_have_count(
        1, timeout=LIVE_MS
    )
    for page in (overlay, writer, chat):
        settle(page)


def test_moderate_and_video_pages(contexts: Contexts, site: PolicySite, violations: Violations) -> None:
    context = new_context(contexts, site, violations, user=OWNER)
    page = context.new_page()
    page.goto(f"/rooms/{site.room}/moderate")
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "live")
    expect(page.get_by_test_id("room-owner")).to_have_text(OWNER)
    expect_policy(page)
    expect(page.get_by_test_id("rate-chart").locator("svg")).to_have_count(1, timeout=LIVE_MS)
    page.get_by_test_id("set-slow-mode").fill("0")
    page.get_by_test_id("settings-save").click()
    expect(page.get_by_test_id("settings-status")).to_have_text("Saved.", timeout=LIVE_MS)
    settle(page)

    video = context.new_page()
    video.goto(f"/rooms/{site.room}/video")
    expect(video.get_by_test_id("overlay-url")).to_contain_text(f"/rooms/{site.room}/overlay")
    video.get_by_test_id("rotate-key").click()
    expect(video.get_by_test_id("overlay-url")).to_contain_text("?key=")
    settle(video)


def test_admin_pages(contexts: Contexts, site: PolicySite, violations: Violations) -> None:
    """Django's admin (its own templates and scripts) under the same policy."""
    name = f"csp-admin-{uuid.uuid4().hex[:6]}"
    manage(
        site.server.env,
        "shell",
        "-c",
        "from django.contrib.auth.models import User\n"
        f"User.objects.create_superuser({name!r}, password={PASSWORD!r})",
    )
    page = new_context(contexts, site, violations).new_page()
    page.goto("/admin/login/")
    expect_policy(page)
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    page.goto("/admin/chat/room/?q=policy")
    expect(page.get_by_text("Policy room")).to_be_visible()
    page.get_by_role("link", name=re.compile("Policy room|" + site.room)).first.click()
    expect(page.locator("#id_title")).to_have_value("Policy room")
    page.goto("/admin/chat/room/add/")
    expect(page.locator("#id_slug")).to_be_visible()
    settle(page)


def test_the_policy_is_enforced_and_violations_are_seen(contexts: Contexts, site: PolicySite) -> None:
    """The control for the zero counts above: an inline script and a style attribute added to
    a page are blocked, and both listeners report them."""
    found = Violations()
    page = new_context(contexts, site, found).new_page()
    page.goto(f"/rooms/{site.room}/")
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "live")
    settle(page)
    found.assert_none()
    page.evaluate(
        """() => {
          const script = document.createElement("script");
          script.textContent = "window.inlineRan = true";
          document.body.append(script);
          const box = document.createElement("div");
          box.setAttribute("style", "color: red");
          document.body.append(box);
        }"""
    )
    settle(page)
    assert page.evaluate("window.inlineRan === undefined")
    directives = {event["directive"] for event in found.events}
    assert {"script-src-elem", "style-src-attr"} <= directives, found.events
    assert any("inline script" in text for text in found.console), found.console
