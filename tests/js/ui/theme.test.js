import assert from "node:assert/strict";
import { test } from "node:test";

import { applyTheme, mountThemePicker, themeCookie, themeFromCookies } from "../../../static/js/ui/theme.js";

test("the cookie names the theme; anything else is the system's", () => {
  assert.equal(themeFromCookies(""), "system");
  assert.equal(themeFromCookies("sessionid=abc; theme=dark"), "dark");
  assert.equal(themeFromCookies("theme=light; csrftoken=x"), "light");
  assert.equal(themeFromCookies("theme=<script>"), "system");
  assert.equal(themeFromCookies("mytheme=dark"), "system");
  assert.equal(themeFromCookies(undefined), "system");
});

test("light and dark are kept a year; system forgets the cookie", () => {
  assert.equal(themeCookie("dark"), "theme=dark; Max-Age=31536000; Path=/; SameSite=Lax");
  assert.equal(themeCookie("light", true), "theme=light; Max-Age=31536000; Path=/; SameSite=Lax; Secure");
  assert.equal(themeCookie("system"), "theme=; Max-Age=0; Path=/; SameSite=Lax");
  assert.equal(themeCookie("neon"), "theme=; Max-Age=0; Path=/; SameSite=Lax");
});

test("the root carries the choice; system removes it", () => {
  const root = { dataset: {} };
  applyTheme(root, "dark");
  assert.deepEqual(root.dataset, { theme: "dark" });
  applyTheme(root, "system");
  assert.deepEqual(root.dataset, {});
});

test("the picker starts at the cookie's theme and applies and keeps a change", () => {
  const select = new EventTarget();
  select.value = "";
  const doc = { cookie: "theme=light", documentElement: { dataset: { theme: "light" } }, location: { protocol: "http:" } };
  mountThemePicker(select, doc);
  assert.equal(select.value, "light");
  select.value = "dark";
  select.dispatchEvent(new Event("change"));
  assert.equal(doc.cookie, "theme=dark; Max-Age=31536000; Path=/; SameSite=Lax");
  assert.deepEqual(doc.documentElement.dataset, { theme: "dark" });
  select.value = "system";
  select.dispatchEvent(new Event("change"));
  assert.equal(doc.cookie, "theme=; Max-Age=0; Path=/; SameSite=Lax");
  assert.deepEqual(doc.documentElement.dataset, {});
});
