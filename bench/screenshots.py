"""Screenshots of the room, watch and moderator pages in the light and dark themes, for the README,
and in each of the interface's other languages.

    .venv/bin/python -m bench.screenshots --out docs/screenshots      (make screenshots)

Starts the app (`python -m config.serve`, as `make run` does) on a throwaway SQLite database,
seeds a room the way people would fill it (the owner, a moderator, two viewers and a bot
talking, with replies, mentions, links and a report; comments all along a recorded video),
drives Debian's Chromium (Playwright never downloads a browser) with three people online, and
writes `<page>-<theme>.png` at 1280x800: the room and the moderator's page as the owner, the
watch page as a viewer, paused where comments are in flight (a paused video holds them still,
so both themes show the same moment). The theme is switched with the page's own picker, as a
reader would. Then each page again in Chinese and in Japanese (the `language` cookie the
header's picker sets, and the browser's locale), as `<page>-<language>.png` in the light theme.

`--texts FILE` also writes, per page and language, every string the page shows a reader: the
text of each visible element, and the labels a reader meets without seeing them as text
(placeholders, titles, aria-labels, alt texts, a select's options). The test compares them with
the catalogs: no English string may remain on a translated page.
tests/e2e/test_screenshots_browser.py runs it so it cannot rot.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, Page, sync_playwright
from websockets.sync.client import connect

from .media import media_server
from .server import PASSWORD, ChatServer, base_env, manage

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars", "--force-color-profile=srgb"]
VIEWPORT = {"width": 1280, "height": 800}
THEMES = ("light", "dark")
PAGES = ("room", "watch", "moderate")
# The interface's other languages (settings.LANGUAGES), as the `language` cookie and a locale.
LANGUAGES = {"zh-hans": "zh-CN", "ja": "ja-JP"}
# Every string an element shows: its own text nodes, when it is rendered, its labels, and the
# text its stylesheet writes before or after it; not code (a header, a query parameter), which
# is the same in every language.
VISIBLE_TEXTS = """() => {
  const texts = new Set();
  const add = (value) => {
    const text = (value || "").replace(/\\s+/g, " ").trim();
    if (text) texts.add(text);
  };
  for (const element of document.body.querySelectorAll("*")) {
    if (["SCRIPT", "STYLE", "TEMPLATE", "NOSCRIPT"].includes(element.tagName)) continue;
    if (element.closest("code, kbd, samp, pre")) continue; // code reads the same in any language
    const inSelect = element.tagName === "OPTION" && element.closest("select");
    if (!inSelect && !element.checkVisibility({ visibilityProperty: true })) continue;
    for (const node of element.childNodes) {
      if (node.nodeType === Node.TEXT_NODE) add(node.textContent);
    }
    for (const name of ["placeholder", "title", "aria-label", "alt"]) add(element.getAttribute(name));
    for (const part of ["::before", "::after"]) {
      const content = getComputedStyle(element, part).content; // text a stylesheet writes
      if (/^".*"$/.test(content)) add(content.slice(1, -1));
    }
    if (element.matches("input[type=submit], input[type=button]")) add(element.value);
  }
  add(document.title);
  return [...texts].sort();
}"""
SLUG = "launch"
OWNER, MODERATOR, BOT = "ann", "bob", "newsbot"
VIEWERS = ("carol", "dave")
PEOPLE = (OWNER, MODERATOR, BOT, *VIEWERS)
TIMEOUT_MS = 20_000
VIDEO_SECONDS = 180
# The watch page is paused here; the comments in flight were written in the seconds before.
PAUSE_MS = 42_000


def seed_script(video_url: str) -> str:
    """The people, the room (its owner, its moderator, its video) and the bot account."""
    return f"""
from django.contrib.auth import get_user_model
from django.core.management import call_command
from chat.domain.bots import mark_bot
from chat.domain.moderation.roles import set_role
from chat.domain.rooms import find_room
User = get_user_model()
users = {{name: User.objects.create_user(name, password={PASSWORD!r}) for name in {PEOPLE!r}}}
call_command("createroom", {SLUG!r}, "--title", "Launch party", "--owner", {OWNER!r},
             "--video-url", {video_url!r}, "--duration-ms", "{VIDEO_SECONDS * 1000}")
set_role(find_room({SLUG!r}), users[{OWNER!r}], "moderator", {{"add": {MODERATOR!r}}})
mark_bot(users[{BOT!r}])
"""


# (author, text, the index of the line it replies to, or None)
CONVERSATION: list[tuple[str, str, int | None]] = [
    (OWNER, "Welcome to the launch party! The stream starts in a few minutes.", None),
    (MODERATOR, "Hi all, be kind and keep spoilers for after the show.", None),
    ("carol", "So excited. Anyone else watching from Lisbon?", None),
    ("dave", "Berlin here", None),
    ("dave", "the trailer is at https://example.org/trailer if you missed it", None),
    ("carol", "@ann will the recording be up afterwards?", 0),
    (OWNER, "Yes: on the watch page, with everyone's comments where they were written.", 5),
    (BOT, "Reminder: the Q&A opens after the keynote. Send questions at https://example.org/qa", None),
    (MODERATOR, "@carol Lisbon has the best seats", 2),
    ("dave", "FOLLOW MY CHANNEL FOR FREE GIFTS", None),
    ("carol", "Here we go!", None),
    (OWNER, "Lights down. Enjoy, everyone.", None),
]
REPORTED = 9  # the line carol reports to the moderators
REPORT_REASON = "spam"

# (author, text, mode, colour, size, ms before the pause): in flight when the page pauses.
IN_FLIGHT: list[tuple[str, str, str, str, str, int]] = [
    ("carol", "here we go!!", "scroll", "#ffffff", "medium", 5200),
    ("dave", "hello from Berlin", "scroll", "#ffffff", "medium", 4700),
    (MODERATOR, "Welcome everyone", "scroll", "#ffd302", "large", 3300),
    ("carol", "the colours in this intro", "scroll", "#00a2ff", "medium", 4100),
    ("dave", "2333333", "scroll", "#ffffff", "small", 3600),
    (OWNER, "Thanks for coming!", "bottom", "#fe0302", "large", 1200),
    ("carol", "that soundtrack", "scroll", "#ff7204", "medium", 3000),
    ("dave", "first time here, this is great", "scroll", "#ffffff", "medium", 2500),
    ("carol", "look at the stage lights", "scroll", "#00cd00", "medium", 1900),
    ("dave", "wow", "scroll", "#ffffff", "large", 1400),
    ("carol", "Lisbon says hi", "scroll", "#cc0273", "medium", 900),
    ("dave", "can't wait for the Q&A", "scroll", "#ffffff", "medium", 400),
]
# Comments all along the video, more of them around the moments people liked: the seek bar's
# density curve. (second, how many)
ALONG = [(8, 2), (20, 3), (28, 5), (33, 4), (60, 2), (75, 6), (80, 8), (86, 4), (120, 3), (150, 5), (170, 2)]
ALONG_TEXTS = ("nice", "233", "so good", "again!", "this part", "haha", "wow")


def comment(text: str, mode: str, color: str, size: str, video_ms: int) -> dict[str, Any]:
    return {"type": "danmaku", "text": text, "mode": mode, "color": color, "size": size, "video_ms": video_ms}


def login(base_url: str, username: str) -> dict[str, str]:
    """A browser's cookies (session and CSRF token) after signing in through the login page."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        client.get("/accounts/login/").raise_for_status()
        form = {
            "username": username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": client.cookies["csrftoken"],
        }
        answer = client.post(
            "/accounts/login/", data=form, headers={"Referer": base_url + "/accounts/login/"}
        )
        if answer.status_code != 302:
            raise RuntimeError(f"login as {username} failed: {answer.status_code}")
        return dict(client.cookies)


class People:
    """The seeded people, each signed in once, posting over the room's WebSocket."""

    def __init__(self, server: ChatServer) -> None:
        self.server = server
        self.cookies = {name: login(server.base_url, name) for name in PEOPLE}

    def post(self, user: str, frames: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Send client frames as `user` over one WebSocket; the server's acks, in order (a
        refusal stops the script)."""
        cookie = "; ".join(f"{key}={value}" for key, value in self.cookies[user].items())
        url = f"ws://127.0.0.1:{self.server.port}/ws/rooms/{SLUG}/"
        acks: dict[int, dict[str, Any]] = {}
        with connect(url, additional_headers={"Cookie": cookie, "Origin": self.server.base_url}) as socket:
            if json.loads(socket.recv(timeout=10))["type"] != "hello":
                raise RuntimeError("the room did not say hello")
            for nonce, frame in enumerate(frames):
                socket.send(json.dumps({**frame, "nonce": nonce}))
            while len(acks) < len(frames):
                answer: dict[str, Any] = json.loads(socket.recv(timeout=10))
                if answer.get("type") == "error":
                    raise RuntimeError(f"{user}'s post was refused: {answer}")
                if answer.get("type") == "ack":
                    acks[answer["nonce"]] = answer
        return [acks[nonce] for nonce in range(len(frames))]

    def report(self, user: str, message_id: int, reason: str) -> None:
        cookies = self.cookies[user]
        answer = httpx.post(
            f"{self.server.base_url}/rooms/{SLUG}/report",
            json={"id": message_id, "reason": reason},
            cookies=cookies,
            headers={"X-CSRFToken": cookies["csrftoken"], "Origin": self.server.base_url},
            timeout=10,
        )
        answer.raise_for_status()

    def converse(self) -> None:
        """The chat: in order, each reply naming the id of the line it answers; one report."""
        ids: list[int] = []
        for author, text, parent in CONVERSATION:
            frame: dict[str, Any] = {"type": "message", "text": text}
            if parent is not None:
                frame["reply_to"] = ids[parent]
            ids.append(int(self.post(author, [frame])[0]["id"]))
        self.report("carol", ids[REPORTED], REPORT_REASON)

    def comment_along_the_video(self) -> None:
        """Earlier comments, before the chat: the seek bar's density curve."""
        texts = iter(ALONG_TEXTS * len(ALONG))
        along = [
            comment(next(texts), "scroll", "#ffffff", "medium", second * 1000 + n * 300)
            for second, count in ALONG
            for n in range(count)
        ]
        self.post(VIEWERS[1], along)

    def comment_in_flight(self) -> None:
        """The comments the watch page's screenshot catches on their way."""
        for author, text, mode, color, size, before in IN_FLIGHT:
            self.post(author, [comment(text, mode, color, size, PAUSE_MS - before)])


def goto(
    browser: Browser, base_url: str, cookies: Mapping[str, str], path: str, language: str | None = None
) -> Page:
    """`path` in a browser profile of its own, signed in with `cookies`, in `language` if given
    (its cookie and the browser's locale), else in English."""
    locale = LANGUAGES[language] if language else "en-US"
    context = browser.new_context(base_url=base_url, viewport=VIEWPORT, device_scale_factor=1, locale=locale)
    context.set_default_timeout(TIMEOUT_MS)
    jar = {**cookies, "language": language or "en"}
    context.add_cookies([{"name": name, "value": value, "url": base_url} for name, value in jar.items()])
    page = context.new_page()
    page.goto(path)
    return page


def open_page(
    browser: Browser, base_url: str, cookies: Mapping[str, str], path: str, language: str | None = None
) -> Page:
    """`goto`, once the page is live."""
    page = goto(browser, base_url, cookies, path, language)
    page.locator('[data-testid="connection-state"][data-state="live"]').wait_for()
    return page


def pause_in_flight(page: Page) -> None:
    """Pause the watch page's video where the IN_FLIGHT comments are on their way."""
    page.wait_for_function("() => document.querySelector('video').readyState >= 1")
    page.evaluate(
        """(seconds) => new Promise((done) => {
          const video = document.querySelector('video');
          video.addEventListener('seeked', done, { once: true });
          video.currentTime = seconds;
        })""",
        PAUSE_MS / 1000,
    )
    page.wait_for_function("count => window.danmaku.snapshot().comments.length >= count", arg=len(IN_FLIGHT))
    page.wait_for_timeout(300)  # a frame or two for the density curve and the canvas


def visible_texts(page: Page) -> list[str]:
    """Every string `page` shows a reader now (VISIBLE_TEXTS)."""
    texts: list[str] = page.evaluate(VISIBLE_TEXTS)
    return texts


def shoot(page: Page, out: Path, name: str) -> list[Path]:
    """Both themes of the page, switched with its picker; the files written."""
    written = []
    for theme in THEMES:
        page.get_by_test_id("theme-picker").select_option(theme)
        page.evaluate("document.activeElement?.blur()")
        page.mouse.move(0, 0)
        page.wait_for_function("theme => document.documentElement.dataset.theme === theme", arg=theme)
        path = out / f"{name}-{theme}.png"
        page.screenshot(path=str(path))
        written.append(path)
    return written


@contextmanager
def demo_server(folder: Path, video_url: str) -> Iterator[ChatServer]:
    """The app on a fresh database holding the demo room and its people."""
    database = folder / "demo.sqlite3"
    env = {**base_env(database), "DEBUG": "1"}  # static files straight from static/, no collectstatic
    manage(env, "migrate", "--noinput")
    manage(env, "shell", "-c", seed_script(video_url))
    server = ChatServer(database, folder / "daphne.log", extra_env={"DEBUG": "1"})
    try:
        yield server.start()
    finally:
        server.stop()


Texts = dict[str, dict[str, list[str]]]  # page -> language -> what it shows
# The other pages, read for `--texts` only: (name, path, as whom; None for a visitor).
OTHER_PAGES = (
    ("home", "/", OWNER),
    ("create-room", "/rooms/new", OWNER),
    ("tokens", "/accounts/tokens/", OWNER),
    ("video", f"/rooms/{SLUG}/video", OWNER),
    ("webhooks", f"/rooms/{SLUG}/webhooks", OWNER),
    ("call", f"/rooms/{SLUG}/call", OWNER),
    ("login", "/accounts/login/", None),
    ("signup", "/accounts/signup/", None),
    ("room-visitor", f"/rooms/{SLUG}/", None),
    ("missing-room", "/rooms/no-such-room/", None),
)


def record(page: Page, name: str, language: str | None, out: Path, texts: Texts | None) -> list[Path]:
    """Shoot `page` (both themes in English, the light one in another language), note what it
    shows in `texts`, and close it; the files written."""
    if texts is not None:
        texts.setdefault(name, {})[language or "en"] = visible_texts(page)
    if language is None:
        written = shoot(page, out, name)
    else:
        page.mouse.move(0, 0)
        path = out / f"{name}-{language}.png"
        page.screenshot(path=str(path))
        written = [path]
    page.context.close()
    return written


def read_other_pages(browser: Browser, base_url: str, people: People, texts: Texts) -> None:
    """What each of OTHER_PAGES shows, in English and in each language, into `texts`."""
    for language in (None, *LANGUAGES):
        for name, path, person in OTHER_PAGES:
            page = goto(browser, base_url, people.cookies[person] if person else {}, path, language)
            page.wait_for_load_state("networkidle")
            texts.setdefault(name, {})[language or "en"] = visible_texts(page)
            page.context.close()


def take_screenshots(out: Path, texts: Texts | None = None) -> list[Path]:
    """Write the screenshots into `out` (each page in both themes, then in each language); their
    paths. Fills `texts`, if given, with what each page shows in each language."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with (
        tempfile.TemporaryDirectory(prefix="screenshots-") as folder,
        media_server(VIDEO_SECONDS) as video_url,
        demo_server(Path(folder), video_url) as server,
    ):
        people = People(server)
        people.comment_along_the_video()
        people.converse()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                base, room_path = server.base_url, f"/rooms/{SLUG}/"
                # Two people besides the owner, online all along: the room shows three.
                open_page(browser, base, people.cookies["carol"], f"{room_path}watch")
                open_page(browser, base, people.cookies[MODERATOR], room_path)
                for language in (None, *LANGUAGES):
                    room = open_page(browser, base, people.cookies[OWNER], room_path, language)
                    room.get_by_test_id("online-count").filter(has_text="3").wait_for()
                    written += record(room, "room", language, out, texts)
                    if language is None:
                        people.comment_in_flight()  # after the room's picture, as the chat began
                    watch = open_page(browser, base, people.cookies["carol"], f"{room_path}watch", language)
                    pause_in_flight(watch)
                    written += record(watch, "watch", language, out, texts)
                    moderate = open_page(
                        browser, base, people.cookies[OWNER], f"{room_path}moderate", language
                    )
                    moderate.get_by_test_id("report-item").first.wait_for()
                    written += record(moderate, "moderate", language, out, texts)
                if texts is not None:
                    read_other_pages(browser, base, people, texts)
            finally:
                browser.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"), help="where the PNG files go")
    parser.add_argument("--texts", type=Path, help="write what each page shows, per language, as JSON here")
    args = parser.parse_args()
    texts: Texts = {}
    for path in take_screenshots(args.out, texts):
        print(f"{path} {path.stat().st_size // 1024} KB")
    if args.texts:
        args.texts.write_text(json.dumps(texts, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
