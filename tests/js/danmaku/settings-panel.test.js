import assert from "node:assert/strict";
import { test } from "node:test";

import { entryLimitProblem, statusText } from "../../../static/js/danmaku/settings-panel.js";
import { ENTRY_MAX_CHARS, LIST_MAX } from "../../../static/js/danmaku/viewer-settings.js";
import { setCatalog } from "../../../static/js/ui/i18n.js";

test("the panel's saving status: one sentence per state, the server's reason inside it", () => {
  assert.equal(statusText("local"), "Saved in this browser.");
  assert.equal(statusText("saved"), "Saved to your account.");
  assert.equal(statusText("error", "Too many requests."), "Could not save to your account: Too many requests.");
  assert.equal(statusText("unknown"), "");
});

test("a block list's limits are named with their numbers", () => {
  assert.equal(entryLimitProblem("x".repeat(ENTRY_MAX_CHARS + 1), 0), `At most ${ENTRY_MAX_CHARS} characters.`);
  assert.equal(entryLimitProblem("spoiler", LIST_MAX), `At most ${LIST_MAX} entries.`);
  assert.equal(entryLimitProblem("spoiler", LIST_MAX - 1), null);
});

test("the status and the limits read in the page's language", (t) => {
  t.after(() => setCatalog(null));
  setCatalog({
    catalog: {
      "Saving…": "保存中…",
      "Could not save to your account: %(reason)s": "无法保存到你的账户：%(reason)s",
      "At most %(count)s entry.": ["最多 %(count)s 条。"],
    },
    plural: "0",
  });
  assert.equal(statusText("saving"), "保存中…");
  assert.equal(statusText("error", "网络错误"), "无法保存到你的账户：网络错误");
  assert.equal(entryLimitProblem("spoiler", LIST_MAX), `最多 ${LIST_MAX} 条。`);
});
