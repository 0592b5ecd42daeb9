import assert from "node:assert/strict";
import { test } from "node:test";

import { importReport } from "../../../static/js/moderate/room-tools.js";

test("an import's report names the format, what was skipped and the commands ignored", () => {
  const answer = {
    imported: 1200,
    format: "niconico",
    skipped: { code_comment: 3, malformed: 1 },
    ignored_commands: { 184: 950, device: 12 },
  };
  assert.equal(
    importReport(answer),
    "Imported 1,200 comments from a Niconico file. Skipped: code comment 3, malformed 1. " +
      "Ignored commands: 184 950, device 12.",
  );
});

test("a Bilibili import with nothing skipped or ignored is one sentence", () => {
  const answer = { imported: 5, format: "bilibili", skipped: {}, ignored_commands: {} };
  assert.equal(importReport(answer), "Imported 5 comments from a Bilibili file.");
});

test("an answer without a format or counts still reads well; odd fields are not shown", () => {
  assert.equal(importReport({ imported: 0, format: "<b>x</b>", skipped: null }), "Imported 0 comments.");
});
