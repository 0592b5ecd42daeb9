import assert from "node:assert/strict";
import { test } from "node:test";

import { LINK_REL, renderRichText, safeHref, tokenize, trimLink } from "../../../static/js/ui/rich-text.js";
import { element, fakeDom } from "../fake-dom.js";
import { installGlobals } from "../fakes.js";

const kinds = (pieces) => pieces.map(({ type, text }) => [type, text]);

test("http and https addresses become links; other schemes stay text", () => {
  const pieces = tokenize("see https://example.org/a?b=1 and http://x.test, not javascript:alert(1) or ftp://f.test");
  assert.deepEqual(kinds(pieces), [
    ["text", "see "],
    ["link", "https://example.org/a?b=1"],
    ["text", " and "],
    ["link", "http://x.test"],
    ["text", ", not javascript:alert(1) or ftp://f.test"],
  ]);
  assert.equal(pieces[1].href, "https://example.org/a?b=1");
});

test("sentence punctuation after a link is not part of it; balanced parentheses are", () => {
  assert.deepEqual(trimLink("https://x.test/a)."), ["https://x.test/a", ")."]);
  assert.deepEqual(trimLink("https://en.wikipedia.org/wiki/Foo_(bar)"), ["https://en.wikipedia.org/wiki/Foo_(bar)", ""]);
  assert.deepEqual(kinds(tokenize("(https://x.test/p)!")), [
    ["text", "("],
    ["link", "https://x.test/p"],
    ["text", ")!"],
  ]);
});

test("an address the URL parser refuses, or one without a host, stays text", () => {
  assert.equal(safeHref("https://"), null);
  assert.equal(safeHref("http://exa mple"), null);
  assert.equal(safeHref("javascript:alert(1)"), null);
  assert.deepEqual(kinds(tokenize("https://[::1")), [["text", "https://[::1"]]);
});

test("a link is an <a> with its address as a property, text as text, rel nofollow ugc noopener, a new tab", (t) => {
  installGlobals(t, { document: fakeDom() });
  const box = element("bdi");
  renderRichText(box, 'go https://x.test/"><img src=x onerror=alert(1)> now');
  const [link] = box.children;
  assert.equal(link.tagName, "A");
  assert.equal(link.href, "https://x.test/");
  assert.equal(link.rel, LINK_REL);
  assert.equal(LINK_REL, "nofollow ugc noopener");
  assert.equal(link.target, "_blank");
  assert.equal(box.textContent, 'go https://x.test/"><img src=x onerror=alert(1)> now');
  assert.equal(box.children.length, 1);
});

test("a mention is marked only for the person named, case-insensitively", (t) => {
  installGlobals(t, { document: fakeDom() });
  const text = "hi @Ann, and @annie and me@ann.test @bob";
  assert.deepEqual(kinds(tokenize(text, { meName: "ann" })), [
    ["text", "hi "],
    ["mention", "@Ann"],
    ["text", ", and @annie and me@ann.test @bob"],
  ]);
  assert.deepEqual(kinds(tokenize(text, { meName: "bob" })).at(-1), ["mention", "@bob"]);
  assert.deepEqual(kinds(tokenize(text)), [["text", text]]);
  const box = element("bdi");
  assert.equal(renderRichText(box, "thanks @ann.", { meName: "Ann" }), true);
  assert.equal(box.children[0].tagName, "MARK");
  assert.equal(box.children[0].textContent, "@ann");
  assert.equal(box.textContent, "thanks @ann.");
  assert.equal(renderRichText(box, "thanks @ann.", { meName: "bob" }), false);
  assert.equal(box.children.length, 0);
});

test("names with dots and non-Latin letters are mentioned whole", () => {
  assert.deepEqual(kinds(tokenize("@j.doe: ok", { meName: "j.doe" }))[0], ["mention", "@j.doe"]);
  assert.deepEqual(kinds(tokenize("@Zoë!", { meName: "zoë" }))[0], ["mention", "@Zoë"]);
  assert.deepEqual(kinds(tokenize("@李雷 你好", { meName: "李雷" }))[0], ["mention", "@李雷"]);
});

test("a mention inside a link is not marked, and the link stays whole", () => {
  assert.deepEqual(kinds(tokenize("https://x.test/@ann", { meName: "ann" })), [["link", "https://x.test/@ann"]]);
});
