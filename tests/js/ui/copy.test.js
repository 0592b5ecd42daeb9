import assert from "node:assert/strict";
import { test } from "node:test";

import { copyText } from "../../../static/js/ui/copy.js";

function parts() {
  const selected = [];
  const source = {
    textContent: "  https://chat.example/rooms/a/overlay?key=k  ",
    ownerDocument: { getSelection: () => ({ selectAllChildren: (node) => selected.push(node) }) },
  };
  const timers = [];
  return { source, status: { textContent: "" }, selected, timers, later: (fn, ms) => timers.push([fn, ms]) };
}

test("copies the text, says so, and clears the word later", async () => {
  const { source, status, timers, later } = parts();
  const copied = [];
  await copyText(source, status, { writeText: async (text) => copied.push(text) }, { later });
  assert.deepEqual(copied, ["https://chat.example/rooms/a/overlay?key=k"]);
  assert.equal(status.textContent, "Copied");
  assert.equal(timers.length, 1);
  timers[0][0]();
  assert.equal(status.textContent, "");
});

test("a refused clipboard selects the text and says how to copy it", async () => {
  const { source, status, selected, later } = parts();
  await copyText(source, status, { writeText: async () => Promise.reject(new Error("denied")) }, { later });
  assert.equal(status.textContent, "Press Ctrl+C to copy");
  assert.deepEqual(selected, [source]);
});
