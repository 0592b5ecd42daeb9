import assert from "node:assert/strict";
import { test } from "node:test";

import { DryRun, dryRunSummary, typedWords } from "../../../static/js/moderate/dry-run.js";
import { byClass, element, fakeDom } from "../fake-dom.js";
import { installGlobals } from "../fakes.js";

test("the typed lines are sent as the settings form sends them", () => {
  assert.deepEqual(typedWords("  spam \n\n/fo+/\n  "), ["spam", "/fo+/"]);
});

test("the summary says how many of how many", () => {
  assert.equal(dryRunSummary({ checked: 0, caught: 0 }), "There are no messages to try them on yet.");
  assert.equal(dryRunSummary({ checked: 1000, caught: 0 }), "They would have caught none of the last 1,000 messages.");
  assert.equal(dryRunSummary({ checked: 12, caught: 3 }), "They would have caught 3 of the last 12 messages.");
});

test("a run posts the typed words and lists what they caught, as text; a refusal is shown", async (t) => {
  installGlobals(t, { document: fakeDom() });
  const parts = { button: element("button"), words: element("textarea"), summary: element("p"), list: element("ol") };
  parts.words.value = "cheap\n/<b>/";
  const posted = [];
  const api = {
    post: async (name, body) => {
      posted.push([name, body]);
      if (body.blocked_words.includes("/(?=x)/")) throw Object.assign(new Error("/(?=x)/ cannot be used"), { code: "invalid" });
      return { checked: 2, caught: 1, messages: [{ user: "bob", text: "<b>cheap</b>", entries: ["cheap", "/<b>/"] }] };
    },
  };
  const run = new DryRun(parts, api);
  await run.run();
  assert.deepEqual(posted, [["dry_run", { blocked_words: ["cheap", "/<b>/"] }]]);
  assert.equal(parts.summary.textContent, "They would have caught 1 of the last 2 messages.");
  const [item] = parts.list.children;
  assert.equal(byClass(item, "review-text")[0].textContent, "<b>cheap</b>");
  assert.equal(byClass(item, "dry-run-entries")[0].textContent, "cheap, /<b>/");
  parts.words.value = "/(?=x)/";
  await run.run();
  assert.equal(parts.summary.textContent, "/(?=x)/ cannot be used");
  assert.equal(parts.summary.dataset.kind, "error");
  assert.deepEqual(parts.list.children, []);
});
