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
