import assert from "node:assert/strict";
import { test } from "node:test";

import {
  formatTime,
  isTyping,
  shortcutFor,
  stepPosition,
  stepVolume,
} from "../../../static/js/danmaku/player-keys.js";

const key = (name, target = { tagName: "BODY" }, extra = {}) => ({ key: name, target, ...extra });

test("each shortcut names its action", () => {
  const actions = [" ", "ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "f", "F", "d", "D"].map((name) =>
    shortcutFor(key(name)),
  );
  assert.deepEqual(actions, [
    "play",
    "back",
    "forward",
    "louder",
    "quieter",
    "fullscreen",
    "fullscreen",
    "danmaku",
    "danmaku",
  ]);
  assert.equal(shortcutFor(key("x")), null);
  assert.equal(shortcutFor(key("Enter")), null);
});

test("no shortcut fires while typing in a field or editable text", () => {
  for (const tagName of ["INPUT", "TEXTAREA", "SELECT"]) {
    for (const name of [" ", "f", "d", "ArrowLeft", "ArrowUp"]) {
      assert.equal(shortcutFor(key(name, { tagName })), null, `${name} in ${tagName}`);
    }
  }
  assert.equal(shortcutFor(key("f", { tagName: "DIV", isContentEditable: true })), null);
  assert.equal(isTyping({ tagName: "DIV", isContentEditable: false }), false);
  assert.equal(isTyping(null), false);
});

test("a modified key or an IME composition is never a shortcut", () => {
  assert.equal(shortcutFor(key("f", undefined, { ctrlKey: true })), null);
  assert.equal(shortcutFor(key("d", undefined, { metaKey: true })), null);
  assert.equal(shortcutFor(key("ArrowLeft", undefined, { altKey: true })), null);
  assert.equal(shortcutFor(key("d", undefined, { isComposing: true })), null);
});

test("space on a focused button is the button's own (no double toggle); other keys still work", () => {
  assert.equal(shortcutFor(key(" ", { tagName: "BUTTON" })), null);
  assert.equal(shortcutFor(key(" ", { tagName: "SUMMARY" })), null);
  assert.equal(shortcutFor(key("f", { tagName: "BUTTON" })), "fullscreen");
});

test("times read as m:ss, or h:mm:ss past an hour; unknown is 0:00", () => {
  assert.equal(formatTime(0), "0:00");
  assert.equal(formatTime(7.9), "0:07");
  assert.equal(formatTime(754), "12:34");
  assert.equal(formatTime(3723), "1:02:03");
  assert.equal(formatTime(Number.NaN), "0:00");
  assert.equal(formatTime(Number.POSITIVE_INFINITY), "0:00");
  assert.equal(formatTime(-3), "0:00");
});

test("volume and position steps stay within their ranges", () => {
  assert.equal(stepVolume(0.95, 0.1), 1);
  assert.equal(stepVolume(0.05, -0.1), 0);
  assert.equal(stepVolume(0.5, 0.1), 0.6);
  assert.equal(stepPosition(3, -5, 100), 0);
  assert.equal(stepPosition(98, 5, 100), 100);
  assert.equal(stepPosition(10, 5, Number.NaN), 15);
});
