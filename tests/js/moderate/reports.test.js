import assert from "node:assert/strict";
import { test } from "node:test";

import { ReportList } from "../../../static/js/moderate/reports.js";
import { byClass, element, fakeDom } from "../fake-dom.js";
import { installGlobals } from "../fakes.js";

const REPORT = {
  event: { id: 41, seq: 3, kind: "message", user: { id: 2, name: "bob" }, text: "<b>buy now</b>" },
  reporters: 2,
  reasons: ["spam", "<i>ads</i>"],
  first: "2026-01-01T12:00:00Z",
  last: "2026-01-01T12:01:00Z",
};

function setUp(t, api = {}) {
  installGlobals(t, { document: fakeDom() });
  const parts = { list: element("ol"), count: element("span") };
  const seen = { done: [], errors: [] };
  const list = new ReportList(parts, api, {
    onDone: (what) => seen.done.push(what),
    onError: (error, what) => seen.errors.push([error.code, what]),
  });
  return { parts, list, seen };
}

test("a reported message shows its author, text, reasons and how many people reported it, as text", (t) => {
  const { parts, list } = setUp(t);
  list.render([REPORT, { ...REPORT, event: { ...REPORT.event, id: 42 }, reporters: 1, reasons: ["rude"] }]);
  const [first, second] = parts.list.children;
  assert.equal(first.dataset.id, "41");
  assert.equal(byClass(first, "review-text")[0].textContent, "<b>buy now</b>");
  assert.equal(byClass(first, "report-count")[0].textContent, "2 reporters");
  assert.equal(byClass(second, "report-count")[0].textContent, "1 reporter");
  assert.deepEqual(byClass(first, "report-reason").map((node) => node.textContent), ["spam", "<i>ads</i>"]);
  assert.equal(parts.count.textContent, "2");
  assert.equal(parts.list.hidden, false);
  list.render([]);
  assert.equal(parts.list.hidden, true);
  assert.equal(parts.count.textContent, "0");
});

test("Delete deletes the message; Dismiss dismisses its reports; a failure is reported", async (t) => {
  const calls = [];
  const api = {
    post: async (name, body) => calls.push([name, body]),
    dismissReports: async (id) => {
      if (id === 0) throw Object.assign(new Error("gone"), { code: "not_found" });
      calls.push(["dismiss", id]);
    },
  };
  const { list, seen } = setUp(t, api);
  const control = element("button");
  await list.act(REPORT, "delete", control);
  await list.act(REPORT, "dismiss", control);
  await list.act({ ...REPORT, event: { ...REPORT.event, id: 0 } }, "dismiss", control);
  assert.deepEqual(calls, [["delete", { id: 41 }], ["dismiss", 41]]);
  assert.deepEqual(seen.done, ["Deleted the reported message by bob.", "Dismissed the reports of the message by bob."]);
  assert.deepEqual(seen.errors, [["not_found", "Could not dismiss the reports"]]);
  assert.equal(control.disabled, false);
});
