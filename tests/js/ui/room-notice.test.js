import assert from "node:assert/strict";
import { test } from "node:test";

import { RoomNotice } from "../../../static/js/ui/room-notice.js";
import { RoomRules } from "../../../static/js/ui/room-rules.js";
import { element, fakeDom } from "../fake-dom.js";
import { installGlobals } from "../fakes.js";

test("the notice counts down once a second and reopens the composer when the timeout ends", (t) => {
  installGlobals(t, { document: fakeDom() });
  t.mock.timers.enable({ apis: ["setTimeout", "Date"], now: 0 });
  const parts = { notice: element("p"), label: element("p"), input: element("input"), send: element("button") };
  const notice = new RoomNotice(new RoomRules({ meId: 1 }), parts);
  notice.render();
  assert.equal(parts.notice.hidden, true);
  assert.equal(parts.label.hidden, true);
  notice.events([{ seq: 1, kind: "ban", user: { id: 1, name: "me" }, sanction: "timeout", until: new Date(3000).toISOString() }]);
  assert.equal(parts.notice.hidden, false);
  assert.equal(parts.notice.textContent, "You are timed out: you can post again in 3 s.");
  assert.equal(parts.input.disabled, true);
  assert.equal(parts.send.disabled, true);
  t.mock.timers.tick(1000);
  assert.equal(parts.notice.textContent, "You are timed out: you can post again in 2 s.");
  t.mock.timers.tick(2000);
  assert.equal(parts.notice.hidden, true);
  assert.equal(parts.input.disabled, false);
  assert.equal(parts.send.disabled, false);
});

test("slow mode shows its label, and a wait after each post", (t) => {
  installGlobals(t, { document: fakeDom() });
  t.mock.timers.enable({ apis: ["setTimeout", "Date"], now: 0 });
  const parts = { notice: element("p"), label: element("p"), input: element("input"), send: element("button") };
  const notice = new RoomNotice(new RoomRules({ meId: 1, settings: { slow_mode_seconds: 2 } }), parts);
  notice.render();
  assert.equal(parts.label.textContent, "Slow mode: one message every 2 s");
  assert.equal(parts.label.hidden, false);
  notice.posted();
  assert.equal(parts.notice.dataset.code, "slow_mode");
  assert.equal(parts.input.disabled, true);
  t.mock.timers.tick(2000);
  assert.equal(parts.notice.hidden, true);
  assert.equal(parts.input.disabled, false);
});
