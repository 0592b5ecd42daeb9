import assert from "node:assert/strict";
import { test } from "node:test";

import { PinnedMessage } from "../../../static/js/ui/pinned.js";
import { element, fakeDom } from "../fake-dom.js";
import { installGlobals } from "../fakes.js";

const PIN = { id: 12, seq: 4, user: { id: 2, name: "bob" }, text: "<b>read the rules</b>", until: null };

function setUp(t) {
  installGlobals(t, { document: fakeDom() });
  const box = element("p");
  box.hidden = true;
  return { box, pinned: new PinnedMessage(box) };
}

test("a pin shows its author and text, as text, and an unpin hides it", (t) => {
  const { box, pinned } = setUp(t);
  pinned.apply([{ seq: 5, kind: "pin", pinned: PIN }]);
  assert.equal(box.hidden, false);
  assert.equal(box.textContent, "Pinnedbob<b>read the rules</b>");
  assert.equal(box.dataset.id, "12");
  pinned.apply([{ seq: 6, kind: "pin", pinned: null }]);
  assert.equal(box.hidden, true);
  assert.equal(box.textContent, "");
});

test("a pin with an end disappears by itself when it ends", (t) => {
  t.mock.timers.enable({ apis: ["setTimeout", "Date"], now: 0 });
  const { box, pinned } = setUp(t);
  pinned.show({ ...PIN, until: new Date(60_000).toISOString() });
  assert.equal(box.hidden, false);
  t.mock.timers.tick(59_999);
  assert.equal(box.hidden, false);
  t.mock.timers.tick(1);
  assert.equal(box.hidden, true);
  pinned.show({ ...PIN, until: new Date(30_000).toISOString() }); // already over
  assert.equal(box.hidden, true);
});

test("deleting the pinned message, or a clear, takes the pin down; other deletions do not", (t) => {
  const { box, pinned } = setUp(t);
  pinned.show(PIN);
  pinned.apply([{ seq: 7, kind: "delete", target: 99 }]);
  assert.equal(box.hidden, false);
  pinned.apply([{ seq: 8, kind: "delete", target: 12 }]);
  assert.equal(box.hidden, true);
  pinned.show(PIN);
  pinned.apply([{ seq: 9, kind: "clear" }]);
  assert.equal(box.hidden, true);
});
