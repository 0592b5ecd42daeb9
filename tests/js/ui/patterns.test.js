// The browser's check of /patterns/ (static/js/ui/patterns.js) on the cases the server's check is
// tested on too (tests/pattern_cases.json): the same refusals with the same reasons, and the
// accepted patterns match the same texts under RegExp as under the server's RE2.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { entryProblem, isPattern, patternProblem, REASONS } from "../../../static/js/ui/patterns.js";

const CASES = JSON.parse(readFileSync(new URL("../../pattern_cases.json", import.meta.url), "utf8"));

test("what either engine refuses, or reads differently, is refused with the server's reason", () => {
  assert.ok(CASES.refused.length > 50);
  for (const { pattern, reason } of CASES.refused) {
    assert.equal(patternProblem(pattern), reason, pattern);
  }
});

test("accepted patterns match, ignoring case, what the server's engine matches", () => {
  assert.ok(CASES.accepted.length > 20);
  for (const { pattern, matches, misses } of CASES.accepted) {
    assert.equal(patternProblem(pattern), null, pattern);
    const expression = new RegExp(pattern, "i");
    for (const text of matches) assert.equal(expression.test(text), true, `${pattern} on ${text}`);
    for (const text of misses) assert.equal(expression.test(text), false, `${pattern} on ${text}`);
  }
});

test("JavaScript's \\s includes Unicode spaces, which the server's translation keeps", () => {
  assert.equal(patternProblem("a\\sb"), null);
  assert.equal(new RegExp("a\\sb", "i").test("a\u3000b"), true);
});

test("a lone surrogate is refused; a whole emoji is one character", () => {
  assert.equal(patternProblem("a\ud800"), REASONS.loneSurrogate);
  assert.equal(patternProblem("\u{1F600}x+"), null);
  assert.equal(patternProblem("x\u{1F600}+"), REASONS.astral);
});

test("an entry's problem names the entry; plain words have none", () => {
  assert.equal(entryProblem("/(?=a)b/"), `/(?=a)b/ cannot be used: ${REASONS.lookaround}.`);
  assert.equal(entryProblem("/ok+/"), null);
  assert.equal(entryProblem("(?=a)"), null); // a plain word, matched as written
  assert.equal(isPattern("//"), false);
  assert.equal(isPattern("/x/"), true);
});

test("the reasons are in the page's language, with the parts of the pattern they name", async (t) => {
  const { setCatalog } = await import("../../../static/js/ui/i18n.js");
  t.after(() => setCatalog(null));
  setCatalog({
    catalog: {
      "%(entry)s cannot be used: %(reason)s.": "%(entry)s は使えません: %(reason)s。",
      "a ( is not closed": "( が閉じられていません",
      "repetition counts are at most %(max)s": "繰り返し回数は %(max)s までです",
      "%(piece)s has nothing to repeat": "%(piece)s の前に繰り返す対象がありません",
    },
    plural: "0",
  });
  assert.equal(entryProblem("/(ab/"), "/(ab/ は使えません: ( が閉じられていません。");
  assert.equal(patternProblem("a{2000}"), "繰り返し回数は 1000 までです");
  assert.equal(patternProblem("+a"), "+ の前に繰り返す対象がありません");
  setCatalog(null);
  assert.equal(patternProblem("+a"), "+ has nothing to repeat");
  assert.equal(REASONS.count, "repetition counts are at most 1000");
});
