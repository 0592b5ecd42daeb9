import assert from "node:assert/strict";
import { test } from "node:test";

import { ModError } from "../../../static/js/moderate/api.js";
import { Notice } from "../../../static/js/moderate/notice.js";
import { element, fakeDom } from "../fake-dom.js";
import { installGlobals } from "../fakes.js";

function setUp(t) {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  t.mock.method(console, "warn", () => {});
  installGlobals(t, { document: fakeDom(), window: { location: { pathname: "/rooms/demo/moderate" } } });
  const box = element("div");
  box.hidden = true;
  return { box, notice: new Notice(box) };
}

test("an outcome shows for a while; an error stays and is announced", (t) => {
  const { box, notice } = setUp(t);
  notice.show("Cleared the room.");
  assert.equal(box.textContent, "Cleared the room.");
  assert.equal(box.getAttribute("role"), "status");
  t.mock.timers.tick(8000);
  assert.equal(box.hidden, true);
  notice.error(new ModError("not_found", "There is no user 'x'."), "Could not ban x");
  assert.equal(box.textContent, "Could not ban x: There is no user 'x'.");
  assert.equal(box.dataset.kind, "error");
  assert.equal(box.getAttribute("role"), "alert");
  t.mock.timers.tick(60_000);
  assert.equal(box.hidden, false);
});

test("an ended session offers a link to log in and come back", (t) => {
  const { box, notice } = setUp(t);
  notice.error(new ModError("login_required", "Your session has ended: log in again."), "Could not ban x");
  assert.equal(box.textContent, "Could not ban x: Your session has ended: log in again. Log in");
  assert.equal(box.children.at(-1).href, "/accounts/login/?next=%2Frooms%2Fdemo%2Fmoderate");
});
