import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { NAME_COLOURS, badges, nameColour } from "../../../static/js/ui/names.js";
import { fakeDom } from "../fake-dom.js";
import { installGlobals } from "../fakes.js";

test("a user's colour depends on their id only, and neighbouring ids spread over the palette", () => {
  assert.equal(nameColour(7), nameColour(7));
  assert.equal(nameColour("7"), nameColour(7));
  const slots = new Set(Array.from({ length: 16 }, (_, id) => nameColour(id + 1)));
  assert.ok(slots.size >= 6, `16 ids use ${slots.size} colours`);
  for (let id = 0; id < 1000; id += 1) assert.ok(nameColour(id) >= 0 && nameColour(id) < NAME_COLOURS);
  assert.equal(nameColour(undefined), 0);
  assert.equal(nameColour(2 ** 60), 0);
});

test("every palette slot has a colour for both themes in the stylesheet", () => {
  const css = readFileSync(new URL("../../../static/css/site.css", import.meta.url), "utf8");
  for (let slot = 0; slot < NAME_COLOURS; slot += 1) {
    assert.match(css, new RegExp(`\\.name-c${slot} \\{\\n  color: light-dark\\(#[0-9a-f]{6}, #[0-9a-f]{6}\\);`));
  }
});

function luminance(hex) {
  const [r, g, b] = [1, 3, 5].map((at) => {
    const channel = parseInt(hex.slice(at, at + 2), 16) / 255;
    return channel <= 0.03928 ? channel / 12.92 : ((channel + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(one, other) {
  const [high, low] = [luminance(one), luminance(other)].sort((a, b) => b - a);
  return (high + 0.05) / (low + 0.05);
}

test("each name colour meets WCAG AA (4.5:1) on every background a line has, in both themes", () => {
  const css = readFileSync(new URL("../../../static/css/site.css", import.meta.url), "utf8");
  const pair = (name) => {
    const found = new RegExp(`${name}: light-dark\\((#[0-9a-f]{6}), (#[0-9a-f]{6})\\)`).exec(css);
    assert.ok(found, name);
    return [found[1], found[2]];
  };
  const mention = /\.msg-mentions-me \{\n  background: light-dark\((#[0-9a-f]{6}), (#[0-9a-f]{6})\)/.exec(css);
  const backgrounds = [pair("--bg"), pair("--surface"), pair("--surface-2"), pair("--mine"), [mention[1], mention[2]]];
  for (const found of css.matchAll(/\.name-c\d \{\n  color: light-dark\((#[0-9a-f]{6}), (#[0-9a-f]{6})\)/g)) {
    for (const [light, dark] of backgrounds) {
      assert.ok(contrast(found[1], light) >= 4.5, `${found[1]} on ${light}`);
      assert.ok(contrast(found[2], dark) >= 4.5, `${found[2]} on ${dark}`);
    }
  }
});

test("role badges: owner, moderator, staff; bot besides; text only, unknown roles none", (t) => {
  installGlobals(t, { document: fakeDom() });
  const texts = (user) => badges(user).map((badge) => [badge.className, badge.textContent]);
  assert.deepEqual(texts({ id: 1, role: "owner" }), [["role-badge role-owner", "owner"]]);
  assert.deepEqual(texts({ id: 1, role: "moderator", bot: true }), [
    ["role-badge role-moderator", "moderator"],
    ["bot-badge", "bot"],
  ]);
  assert.deepEqual(texts({ id: 1, role: "staff" }), [["role-badge role-staff", "staff"]]);
  assert.deepEqual(texts({ id: 1, role: "<b>king</b>" }), []);
  assert.deepEqual(texts({ id: 1, role: "constructor" }), []);
  assert.deepEqual(texts({ id: 1 }), []);
});
