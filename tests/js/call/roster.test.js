import assert from "node:assert/strict";
import { test } from "node:test";

import { CallRoster } from "../../../static/js/call/roster.js";

const ann = { id: "a1", user: { id: 1, name: "ann" }, audio: true, video: true, audio_muted: false, video_muted: false };
const bob = { id: "b2", user: { id: 2, name: "bob" }, audio: true, video: false, audio_muted: false, video_muted: false };

test("a roster frame says who joined, who left and whose state changed", () => {
  const roster = new CallRoster();
  assert.deepEqual(roster.apply({ version: 1, participants: [ann] }), { joined: [ann], left: [], changed: [] });
  const muted = { ...ann, audio_muted: true };
  assert.deepEqual(roster.apply({ version: 2, participants: [muted, bob] }), {
    joined: [bob],
    left: [],
    changed: [muted],
  });
  assert.deepEqual(roster.apply({ version: 3, participants: [bob] }), { joined: [], left: [muted], changed: [] });
  assert.equal(roster.size, 1);
  assert.deepEqual(roster.others("b2"), []);
  assert.deepEqual(roster.others("zz"), [bob]);
});

test("an older roster than the one shown is ignored", () => {
  const roster = new CallRoster();
  roster.apply({ version: 5, participants: [ann, bob] });
  assert.equal(roster.apply({ version: 4, participants: [ann] }), null);
  assert.equal(roster.apply({ version: 5, participants: [] }), null);
  assert.equal(roster.size, 2);
  assert.equal(roster.apply({ participants: [] }), null); // no version: not a roster
});

test("a full call is full for a newcomer, not for someone already in it", () => {
  const roster = new CallRoster();
  const six = Array.from({ length: 6 }, (_, n) => ({ ...ann, id: `p${n}` }));
  roster.apply({ version: 1, participants: six });
  assert.equal(roster.isFullFor(null, 6), true);
  assert.equal(roster.isFullFor("p3", 6), false);
  assert.equal(roster.isFullFor(null, 7), false);
});

test("the roster's order says who joined first", () => {
  const roster = new CallRoster();
  roster.apply({ version: 1, participants: [ann, bob] });
  assert.equal(roster.joinedBefore("a1", "b2"), true);
  assert.equal(roster.joinedBefore("b2", "a1"), false);
  assert.equal(roster.joinedBefore("a1", "new"), true); // a page not yet listed is the latest
  assert.equal(roster.joinedBefore("gone", "a1"), false);
});
