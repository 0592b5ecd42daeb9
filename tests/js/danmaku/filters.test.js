import assert from "node:assert/strict";
import { test } from "node:test";

import {
  compileFilter,
  isValidKeyword,
  keywordPattern,
  keywordProblem,
  WHITE,
} from "../../../static/js/danmaku/filters.js";

function comment(fields = {}) {
  return { mode: "scroll", color: WHITE, text: "hello there", user: { id: 2, name: "Bob" }, mine: false, ...fields };
}

test("with no settings, every comment is wanted", () => {
  assert.equal(compileFilter()(comment()), true);
});

test("hidden modes, and coloured comments, are hidden", () => {
  const wants = compileFilter({ hidden_modes: ["top", "color"] });
  assert.equal(wants(comment({ mode: "top" })), false);
  assert.equal(wants(comment({ mode: "bottom" })), true);
  assert.equal(wants(comment({ color: "#fe0302" })), false);
  assert.equal(wants(comment({ color: WHITE })), true);
});

test("keywords match anywhere, ignoring case; /…/ is a regular expression", () => {
  const wants = compileFilter({ blocked_keywords: ["SPOILER", "/^regex\\d+/", "  "] });
  assert.equal(wants(comment({ text: "big spoiler ahead" })), false);
  assert.equal(wants(comment({ text: "Regex42 here" })), false);
  assert.equal(wants(comment({ text: "not regex42" })), true);
  assert.equal(wants(comment({ text: "anything" })), true); // a blank keyword matches nothing
});

test("an invalid expression hides nothing (and is not taken as a word)", () => {
  const wants = compileFilter({ blocked_keywords: ["/([/"] });
  assert.equal(wants(comment({ text: "/([/ literally" })), true);
  assert.equal(isValidKeyword("/([/"), false);
  assert.equal(isValidKeyword("/(?P<name>x)/"), false); // Python's syntax, not JavaScript's
  assert.equal(isValidKeyword("/ok+/"), true);
  assert.equal(isValidKeyword("word"), true);
  assert.equal(isValidKeyword("   "), false);
  assert.equal(keywordPattern("//"), null);
});

test("blocked users are hidden by name, ignoring case", () => {
  const wants = compileFilter({ blocked_users: [" bob "] });
  assert.equal(wants(comment()), false);
  assert.equal(wants(comment({ user: { id: 3, name: "carol" } })), true);
  assert.equal(wants(comment({ user: null })), true);
});

test("the viewer's own comments pass every filter", () => {
  const settings = { hidden_modes: ["scroll", "color"], blocked_keywords: ["hello"], blocked_users: ["bob"] };
  const wants = compileFilter(settings);
  assert.equal(wants(comment({ mine: true, color: "#00cd00" })), true);
  assert.equal(wants(comment()), false);
});

test("a /pattern/ the server's engine cannot run is refused before saving, in the server's words", () => {
  for (const keyword of ["/(?=spoiler)/", "/(a)\\1/", "/(?<name>x)/", "/\\pL/", "/(?i)x/", "/[[:alpha:]]/"]) {
    assert.equal(isValidKeyword(keyword), false, keyword);
    assert.match(keywordProblem(keyword), /^\/.+\/ cannot be used: .+\.$/, keyword);
  }
  assert.equal(
    keywordProblem(" /(?<!a)b/ "),
    "/(?<!a)b/ cannot be used: lookahead and lookbehind ((?=, (?!, (?<=, (?<!) are not supported.",
  );
  assert.equal(keywordProblem("/sp[o0]iler/"), null);
  assert.equal(keywordProblem("(?=plain words are matched as written)"), null);
});

test("a stored keyword the server would refuse now hides nothing", () => {
  const wants = compileFilter({ blocked_keywords: ["/(?=x)x/", "/x*/"] });
  assert.equal(wants(comment({ text: "x marks the spot" })), true);
});
