import assert from "node:assert/strict";
import { test } from "node:test";

import {
  AREAS,
  clampView,
  cleanSettings,
  ENTRY_MAX_CHARS,
  LIST_MAX,
  RANGES,
  VIEWER_DEFAULTS,
} from "../../../static/js/danmaku/viewer-settings.js";

test("scale goes from 0.25 to 4, like the overlay's ?scale=", () => {
  assert.deepEqual(RANGES.scale, [0.25, 4]);
  assert.equal(cleanSettings({ scale: 0.25 }).scale, 0.25);
  assert.equal(cleanSettings({ scale: 4 }).scale, 4);
  assert.equal(cleanSettings({ scale: 0.2 }).scale, VIEWER_DEFAULTS.scale);
  assert.equal(cleanSettings({ scale: 4.5 }).scale, VIEWER_DEFAULTS.scale);
});

test("nothing stored, or garbage, gives the defaults", () => {
  const lists = { hidden_modes: [], blocked_keywords: [], blocked_users: [] };
  assert.deepEqual(cleanSettings(null), { ...VIEWER_DEFAULTS, ...lists });
  const cleaned = cleanSettings({ show: "no", opacity: 0, speed: Number.NaN, area: 0.3, hidden_modes: "top" });
  assert.deepEqual(cleaned, cleanSettings({}));
});

test("values within their ranges are kept as they are", () => {
  const settings = { show: false, opacity: 0.1, speed: 4, scale: 1.25, area: 0.75 };
  const cleaned = cleanSettings(settings);
  for (const [key, value] of Object.entries(settings)) assert.equal(cleaned[key], value, key);
  for (const area of AREAS) assert.equal(cleanSettings({ area }).area, area);
});

test("lists are trimmed, without blanks, repeats, overlong entries or invalid expressions", () => {
  const cleaned = cleanSettings({
    hidden_modes: ["color", "top", "sideways", "top"],
    blocked_keywords: [" spoiler ", "spoiler", "", "/([/", "/ok+/", 7, "x".repeat(ENTRY_MAX_CHARS + 1)],
    blocked_users: Array.from({ length: LIST_MAX + 5 }, (_, index) => `user${index}`),
  });
  assert.deepEqual(cleaned.hidden_modes, ["top", "color"]);
  assert.deepEqual(cleaned.blocked_keywords, ["spoiler", "/ok+/"]);
  assert.equal(cleaned.blocked_users.length, LIST_MAX);
});

test("the renderer holds what it is given within the same ranges", () => {
  const view = clampView({ scale: 10, speed: 0.01, opacity: 0, area: 0.01, show: 0, hidden_modes: ["top"] });
  assert.equal(view.scale, RANGES.scale[1]);
  assert.equal(view.speed, RANGES.speed[0]);
  assert.equal(view.opacity, 0); // an overlay may ask for fully transparent comments
  assert.equal(view.area, AREAS[0]);
  assert.equal(view.show, true); // only false hides
  assert.deepEqual(view.hidden_modes, ["top"]);
  assert.deepEqual(clampView({ scale: "2", speed: "fast" }).scale, 2);
  assert.equal(clampView({ speed: "fast" }).speed, VIEWER_DEFAULTS.speed);
  assert.equal(clampView({ scale: 0.25 }).scale, 0.25);
});

test("what the settings panel keeps, the renderer shows unchanged, and nothing more", () => {
  for (const key of Object.keys(RANGES)) {
    for (let value = 0; value <= 5; value += 0.05) {
      const kept = cleanSettings({ [key]: value })[key] === value;
      const shown = clampView({ [key]: value })[key] === value;
      if (key === "opacity" && value < RANGES.opacity[0]) continue; // an overlay's own range
      assert.equal(kept, shown, `${key} ${value}`);
    }
  }
});

test("merge_repeats is kept when a boolean, off otherwise (as the server refuses it)", () => {
  assert.equal(cleanSettings({ merge_repeats: true }).merge_repeats, true);
  assert.equal(cleanSettings({ merge_repeats: "yes" }).merge_repeats, false);
  assert.equal(cleanSettings({}).merge_repeats, false);
  assert.equal(clampView({ merge_repeats: true }).merge_repeats, true);
  assert.equal(clampView({ merge_repeats: 1 }).merge_repeats, false);
});
