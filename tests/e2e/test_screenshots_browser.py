"""The README's screenshots are made by a script (`make screenshots`, bench/screenshots.py): it
runs here into a temporary folder, so a change to the pages or the seeding that breaks it
fails the suite instead of leaving the pictures to go stale. Each of the six files must be a
1280x800 PNG of a page that drew something (hundreds of colours, not a blank or error page),
small enough for a README, and the dark one of each page darker than the light one."""

from __future__ import annotations

import base64
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from bench.screenshots import PAGES, THEMES

from .conftest import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.timeout(300)]

SIZE = (1280, 800)
MAX_BYTES = 300 * 1024
# A page of text, badges, buttons and comments over a video, anti-aliased: thousands of colours.
# A blank page has one, an unstyled error page a few dozen.
MIN_COLOURS = 500


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def colours_and_brightness(browser: Browser, data: bytes) -> tuple[int, float]:
    """Distinct colours, and the mean brightness (0-255), of the PNG's pixels, read in Chromium."""
    page = browser.new_page()
    try:
        result: list[float] = page.evaluate(
            """async (source) => {
              const image = new Image();
              image.src = source;
              await image.decode();
              const canvas = new OffscreenCanvas(image.width, image.height);
              const context = canvas.getContext("2d");
              context.drawImage(image, 0, 0);
              const pixels = context.getImageData(0, 0, image.width, image.height).data;
              const seen = new Set();
              let sum = 0;
              for (let i = 0; i < pixels.length; i += 4) {
                seen.add((pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2]);
                sum += (pixels[i] + pixels[i + 1] + pixels[i + 2]) / 3;
              }
              return [seen.size, sum / (pixels.length / 4)];
            }""",
            "data:image/png;base64," + base64.b64encode(data).decode(),
        )
    finally:
        page.close()
    return int(result[0]), result[1]


def test_the_screenshot_script_writes_six_finished_pages(browser: Browser, tmp_path: Path) -> None:
    out = tmp_path / "screenshots"
    run = subprocess.run(
        [sys.executable, "-m", "bench.screenshots", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    expected = {f"{page}-{theme}.png" for page in PAGES for theme in THEMES}
    assert {path.name for path in out.iterdir()} == expected
    for page in PAGES:
        brightness = {}
        for theme in THEMES:
            data = (out / f"{page}-{theme}.png").read_bytes()
            assert png_size(data) == SIZE, (page, theme)
            assert len(data) < MAX_BYTES, (page, theme, len(data))
            colours, brightness[theme] = colours_and_brightness(browser, data)
            assert colours > MIN_COLOURS, (page, theme, colours)
        assert brightness["dark"] < brightness["light"] - 40, (page, brightness)
