import assert from "node:assert/strict";
import { test } from "node:test";

import { blockedWordProblems } from "../../../static/js/moderate/settings.js";

test("blocked /patterns/ the server would refuse are named before saving", () => {
  const problems = blockedWordProblems(["spoiler", "/b[a4]d/", "/(?<=x)y/", "/\\z/", "(?=plain)"]);
  assert.deepEqual(problems, [
    "/(?<=x)y/ cannot be used: lookahead and lookbehind ((?=, (?!, (?<=, (?<!) are not supported.",
    "/\\z/ cannot be used: \\z is not supported.",
  ]);
  assert.deepEqual(blockedWordProblems(["spoiler", "/fo+bar/"]), []);
});
