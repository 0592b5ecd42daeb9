import assert from "node:assert/strict";
import { test } from "node:test";

import {
  gettext,
  interpolate,
  loadPageCatalog,
  ngettext,
  pageLanguage,
  pgettext,
  pluralRule,
  setCatalog,
} from "../../../static/js/ui/i18n.js";

test("without a catalog every string is its own msgid, with English plurals", (t) => {
  t.after(() => setCatalog(null));
  setCatalog(null);
  assert.equal(gettext("Reconnecting…"), "Reconnecting…");
  assert.equal(ngettext("%(count)s viewer", "%(count)s viewers", 1), "%(count)s viewer");
  assert.equal(ngettext("%(count)s viewer", "%(count)s viewers", 0), "%(count)s viewers");
  assert.equal(pgettext("danmaku position", "Top"), "Top");
});

test("a catalog's translations, one plural form for Japanese, and untranslated entries fall back", (t) => {
  t.after(() => setCatalog(null));
  setCatalog({
    catalog: {
      "Reconnecting…": "再接続中…",
      "%(count)s viewer": ["%(count)s 人が視聴中"],
      "danmaku position\u0004Top": "上",
      Empty: "",
    },
    plural: "0",
  });
  assert.equal(gettext("Reconnecting…"), "再接続中…");
  assert.equal(ngettext("%(count)s viewer", "%(count)s viewers", 5), "%(count)s 人が視聴中");
  assert.equal(pgettext("danmaku position", "Top"), "上");
  assert.equal(gettext("Empty"), "Empty");
  assert.equal(gettext("Not in the catalog"), "Not in the catalog");
});

test("plural rules are read without eval; an unknown one falls back to English's", () => {
  assert.equal(pluralRule("0")(7), 0);
  assert.equal(pluralRule("(n != 1)")(1), 0);
  assert.equal(pluralRule("(n != 1)")(2), 1);
  assert.equal(pluralRule("n > 1")(1), 0);
  assert.equal(pluralRule("alert(1)")(2), 1);
  assert.equal(pluralRule(null)(1), 0);
});

test("interpolate fills %(name)s from values, keeps unknown names and reads %% as %", () => {
  assert.equal(interpolate("%(name)s joined", { name: "<b>bob</b>" }), "<b>bob</b> joined");
  assert.equal(interpolate("%(a)s and %(b)s", { a: 1 }), "1 and %(b)s");
  assert.equal(interpolate("100%% of %(n)s", { n: 3 }), "100% of 3");
  assert.equal(interpolate("%(toString)s", {}), "%(toString)s");
});

test("the page's embedded catalog is read once; a broken one leaves the msgids", (t) => {
  t.after(() => setCatalog(null));
  const page = (text) => ({
    getElementById: (id) => (id === "i18n-catalog" ? { textContent: text } : null),
    documentElement: { lang: "zh-hans" },
  });
  loadPageCatalog(page(JSON.stringify({ catalog: { Send: "发送" }, plural: "0" })));
  assert.equal(gettext("Send"), "发送");
  assert.equal(pageLanguage(page("")), "zh-hans");
  loadPageCatalog(page("{not json"));
  assert.equal(gettext("Send"), "Send");
  loadPageCatalog({ getElementById: () => null });
  assert.equal(gettext("Send"), "Send");
  assert.equal(pageLanguage({}), "en");
});

test("interpolateParts keeps nodes as nodes and text as text, in the translation's order", async () => {
  const { interpolateParts } = await import("../../../static/js/ui/i18n.js");
  const node = { nodeName: "BDI" };
  assert.deepEqual(interpolateParts("Replying to %(name)s", { name: node }), ["Replying to ", node]);
  assert.deepEqual(interpolateParts("%(name)s に返信", { name: node }), [node, " に返信"]);
  assert.deepEqual(interpolateParts("<b>%(a)s</b> 100%%", { a: "x" }), ["<b>", "x", "</b> 100", "%"]);
  assert.deepEqual(interpolateParts("%(missing)s", {}), ["%(missing)s"]);
});
