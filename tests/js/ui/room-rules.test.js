import assert from "node:assert/strict";
import { test } from "node:test";

import { RoomRules, formatWait, secondsLeft } from "../../../static/js/ui/room-rules.js";

const NOW = Date.parse("2026-01-01T12:00:00Z");
const ME = 7;

function ban(fields = {}) {
  return { seq: 5, kind: "ban", user: { id: ME, name: "me" }, sanction: "ban", until: null, reason: "", ...fields };
}

test("countdowns are whole seconds, rounded up, and said in the largest units that fit", () => {
  assert.equal(secondsLeft(NOW + 1, NOW), 1);
  assert.equal(secondsLeft(NOW + 29_001, NOW), 30);
  assert.equal(secondsLeft(NOW, NOW), 0);
  assert.equal(secondsLeft(NOW - 5, NOW), 0);
  assert.deepEqual([formatWait(45), formatWait(60), formatWait(200), formatWait(7500)], ["45 s", "1 min", "3 min 20 s", "2 h 5 min"]);
});

test("a timeout of mine closes the composer with a countdown and its reason until it ends", () => {
  const rules = new RoomRules({ meId: ME });
  assert.equal(rules.block(NOW), null);
  const until = new Date(NOW + 90_000).toISOString();
  assert.equal(rules.apply([ban({ sanction: "timeout", until, reason: "calm down" })]), true);
  assert.deepEqual(rules.block(NOW), {
    code: "muted",
    seconds: 90,
    text: "You are timed out: you can post again in 1 min 30 s. Reason: calm down",
  });
  assert.equal(rules.block(NOW + 89_500).seconds, 1);
  assert.equal(rules.block(NOW + 90_000), null); // it ran out by itself
});

test("someone else's ban changes nothing for me; a ban of mine says why; a lift reopens", () => {
  const rules = new RoomRules({ meId: ME });
  assert.equal(rules.apply([ban({ user: { id: 8, name: "other" } })]), false);
  assert.equal(rules.block(NOW), null);
  rules.apply([ban({ reason: "spam links" })]);
  assert.deepEqual(rules.block(NOW), { code: "banned", text: "You are banned from this room. Reason: spam links" });
  rules.apply([{ seq: 6, kind: "unban", user: { id: ME, name: "me" } }]);
  assert.equal(rules.block(NOW), null);
});

test("the page's standing and the server's refusals set the same state as the events", () => {
  const banned = new RoomRules({ meId: ME, sanction: { sanction: "ban", until: null, reason: "" } });
  assert.equal(banned.block(NOW).code, "banned");
  const rules = new RoomRules({ meId: ME });
  assert.equal(rules.refused({ code: "muted", until: new Date(NOW + 20_000).toISOString(), reason: "" }, NOW), true);
  assert.equal(rules.block(NOW).seconds, 20);
  const other = new RoomRules({ meId: ME });
  other.refused({ code: "slow_mode", retry_after: 12 }, NOW);
  assert.deepEqual(other.block(NOW), { code: "slow_mode", seconds: 12, text: "Slow mode: you can post again in 12 s." });
  assert.equal(other.refused({ code: "too_long" }, NOW), false);
});

test("slow mode is labelled and counts down after each post, except for moderators", () => {
  const rules = new RoomRules({ meId: ME, settings: { posting: "open", slow_mode_seconds: 30 } });
  assert.equal(rules.modeLabel(), "Slow mode: one message every 30 s");
  assert.equal(rules.block(NOW), null);
  rules.posted(NOW);
  assert.equal(rules.block(NOW + 1000).seconds, 29);
  assert.equal(rules.block(NOW + 30_000), null);
  rules.apply([{ seq: 9, kind: "settings", settings: { posting: "open", slow_mode_seconds: 0 } }]);
  assert.equal(rules.modeLabel(), "");
  const moderator = new RoomRules({ meId: ME, moderates: true, settings: { slow_mode_seconds: 30 } });
  moderator.posted(NOW);
  assert.equal(moderator.block(NOW), null);
  assert.match(moderator.modeLabel(), /not for you/);
});

test("announcement mode is labelled and closes the composer to everyone but moderators", () => {
  const rules = new RoomRules({ meId: ME });
  rules.apply([{ seq: 3, kind: "settings", settings: { posting: "moderators", slow_mode_seconds: 0 } }]);
  assert.equal(rules.modeLabel(), "Announcements: only moderators post");
  assert.equal(rules.block(NOW).code, "moderators_only");
  const moderator = new RoomRules({ meId: ME, moderates: true, settings: { posting: "moderators" } });
  assert.equal(moderator.block(NOW), null);
});

test("the chat delay is labelled, with the moderators' exemption, and follows settings events", () => {
  const rules = new RoomRules({ meId: ME, settings: { chat_delay_seconds: 10 } });
  assert.equal(rules.modeLabel(), "Chat delay: messages appear 10 s after they are sent");
  const moderator = new RoomRules({ meId: ME, moderates: true, settings: { chat_delay_seconds: 10 } });
  assert.equal(moderator.modeLabel(), "Chat delay: messages appear 10 s after they are sent (not for you: you moderate)");
  assert.equal(rules.apply([{ seq: 2, kind: "settings", settings: { chat_delay_seconds: 0 } }]), true);
  assert.equal(rules.modeLabel(), "");
  assert.equal(rules.block(NOW), null); // a delay never closes the composer
});

test("unique chat is labelled with its window, and follows settings events", () => {
  const rules = new RoomRules({ meId: ME, settings: { unique_chat: true, unique_chat_seconds: 30 } });
  assert.equal(rules.modeLabel(), "Unique chat: nothing anyone said in the last 30 s");
  rules.apply([{ seq: 2, kind: "settings", settings: { unique_chat: true, unique_chat_seconds: 120, slow_mode_seconds: 5 } }]);
  assert.equal(rules.modeLabel(), "Slow mode: one message every 5 s · Unique chat: nothing anyone said in the last 2 min");
  rules.apply([{ seq: 3, kind: "settings", settings: { unique_chat: false, unique_chat_seconds: 120, slow_mode_seconds: 0 } }]);
  assert.equal(rules.modeLabel(), "");
});
