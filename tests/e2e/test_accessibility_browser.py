"""Themes and accessibility in a real Chromium: the theme picker's choice is applied at once and
kept across pages, and every page passes axe-core's WCAG 2 A and AA rules (contrast included)
in the light theme and in the dark one. axe-core comes from the npm registry at test time."""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from bench.media import media_server

from .browsing import Contexts
from .conftest import Site, create_rooms, running_server
from .npm_packages import npm_file

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

AXE_SPEC = "axe-core@~4.10.0"
OWNER = "alice"
VIEWER = "bob"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
THEMES = ["light", "dark"]


@pytest.fixture(scope="module")
def axe_script() -> str:
    return npm_file(AXE_SPEC, "axe-core", "axe.min.js").read_text()


@pytest.fixture(scope="module")
def site(e2e_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """DEBUG off as in production; a public room of alice's with a video, a private one."""
    public = f"a11y-{uuid.uuid4().hex[:8]}"
    private = f"a11y-p-{uuid.uuid4().hex[:8]}"
    env = {
        **e2e_env,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
    }
    with media_server(60) as video_url:
        video = ["--video-url", video_url, "--duration-ms", "60000"]
        create_rooms(
            env,
            {
                public: ["--title", "Accessible room", "--owner", OWNER, *video],
                private: ["--title", "Members only", "--owner", OWNER],
            },
        )
        with running_server(env, tmp_path_factory.mktemp("a11y")) as server:
            made = Site(server, {"public": public, "private": private}, viewport=(1280, 900))
            assert made.api(OWNER, private).post("mod/settings", {"private": True}).is_success
            # Pages with something in them: messages of two people, a danmaku at a video time.
            answers = [
                *made.post(public, OWNER, [{"type": "message", "text": "Welcome, everyone"}]),
                *made.post(public, VIEWER, [{"type": "message", "text": "Hello! @alice"}]),
                *made.post(public, VIEWER, [{"type": "danmaku", "text": "first", "video_ms": 1000}]),
            ]
            # A link, a reply quoting the owner, and (on alice's pages) the mention of alice.
            reply = {"type": "message", "text": "See https://example.org/a", "reply_to": answers[0]["id"]}
            answers += made.post(public, VIEWER, [reply])
            assert [answer["type"] for answer in answers] == ["ack"] * 4, answers
            yield made


def themed(contexts: Contexts, site: Site, theme: str, axe: str, user: str | None = None) -> BrowserContext:
    """A profile that chose `theme` (its pages are opened with a system that prefers the other
    one, so a page that ignored the choice would show the wrong colours), with axe-core in
    every page (an init script: Playwright adds it outside the page's script policy)."""
    context = site.browse(contexts, user)
    context.add_cookies([{"name": "theme", "value": theme, "url": site.base_url}])
    context.add_init_script(script=axe)
    return context


def axe_violations(page: Page) -> list[dict[str, Any]]:
    found = page.evaluate(
        """async (tags) => {
          const result = await axe.run(document, { runOnly: { type: "tag", values: tags } });
          return result.violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target, summary: n.failureSummary })),
          }));
        }""",
        WCAG_AA,
    )
    return list(found)


def pages_of(site: Site) -> list[tuple[str | None, str, str]]:
    """(user, path, what must be on it) for every page of the site."""
    public, private = site.rooms["public"], site.rooms["private"]
    return [
        (None, "/", "Rooms"),
        (None, "/accounts/login/", "Log in"),
        (None, "/accounts/signup/", "Sign up"),
        (None, "/no/such/page", "Page not found"),
        (None, f"/rooms/{public}/", "Accessible room"),
        (None, f"/rooms/{public}/watch", "Accessible room"),
        (OWNER, "/", "Create a room"),
        (OWNER, "/rooms/new", "Create"),
        (OWNER, f"/rooms/{public}/", "Accessible room"),
        (OWNER, f"/rooms/{public}/watch", "Accessible room"),
        (OWNER, f"/rooms/{public}/moderate", "Accessible room"),
        (OWNER, f"/rooms/{public}/video", "Video"),
        (OWNER, f"/rooms/{public}/webhooks", "Webhooks"),
        (OWNER, "/accounts/tokens/", "API tokens"),
        (VIEWER, f"/rooms/{private}/", "private"),
        (VIEWER, f"/rooms/{public}/moderate", "Not allowed"),
    ]


@pytest.mark.parametrize("theme", THEMES)
def test_every_page_passes_wcag_aa_in_both_themes(
    contexts: Contexts, site: Site, axe_script: str, theme: str
) -> None:
    failures: dict[str, Any] = {}
    by_user: dict[str | None, BrowserContext] = {}
    for user, path, expected in pages_of(site):
        if user not in by_user:
            by_user[user] = themed(contexts, site, theme, axe_script, user)
        page = by_user[user].new_page()
        page.emulate_media(color_scheme="dark" if theme == "light" else "light")
        page.goto(path)
        expect(page.locator("body")).to_contain_text(expected)
        assert page.evaluate("document.documentElement.dataset.theme") == theme
        page.wait_for_timeout(200)  # live pages: let the first frames land
        violations = axe_violations(page)
        if violations:
            failures[f"{user or 'guest'} {path}"] = violations
        page.close()
    assert not failures, json.dumps(failures, indent=1)


def test_the_theme_picker_applies_at_once_and_is_kept(contexts: Contexts, site: Site) -> None:
    context = site.browse(contexts)
    page = context.new_page()
    page.emulate_media(color_scheme="light")
    page.goto("/")
    background = "() => getComputedStyle(document.body).backgroundColor"
    light = page.evaluate(background)
    picker = page.get_by_test_id("theme-picker")
    expect(picker).to_have_value("system")

    picker.select_option("dark")
    dark = page.evaluate(background)
    assert dark != light
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"

    # Kept: another page comes from the server already dark, with the picker showing it.
    page.goto("/accounts/login/")
    assert page.evaluate(background) == dark
    expect(page.get_by_test_id("theme-picker")).to_have_value("dark")

    # System again follows the system's setting, and forgets the choice.
    page.get_by_test_id("theme-picker").select_option("system")
    assert page.evaluate(background) == light
    page.emulate_media(color_scheme="dark")
    assert page.evaluate(background) == dark
    page.reload()
    expect(page.get_by_test_id("theme-picker")).to_have_value("system")
    assert not [cookie for cookie in context.cookies() if cookie["name"] == "theme" and cookie["value"]]
