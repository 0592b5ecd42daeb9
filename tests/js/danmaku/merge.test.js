import assert from "node:assert/strict";
import { test } from "node:test";

import { MERGE_WINDOW_MS, normalizeRepeat, RepeatMerger, repeatBadge } from "../../../static/js/danmaku/merge.js";

test("runs of three or more of a unit become two: 2333…, 666…, 哈哈哈…, hahaha…", () => {
  for (const [a, b] of [
    ["2333", "23333333"],
    ["233", "2333"],
    ["666", "666666666"],
    ["哈哈哈", "哈哈哈哈哈哈"],
    ["hahaha", "hahahahaha"],
    ["awsl awsl awsl", "awslawslawslawsl"],
  ]) {
    assert.equal(normalizeRepeat(a), normalizeRepeat(b), `${a} and ${b}`);
  }
  assert.equal(normalizeRepeat("23333"), "233");
  assert.equal(normalizeRepeat("哈哈哈哈"), "哈哈");
});

test("case, full width and spaces do not matter; a run of two and different words do", () => {
  assert.equal(normalizeRepeat("ＧＯＯＤ Game"), normalizeRepeat("goodgame"));
  assert.equal(normalizeRepeat("６６６"), normalizeRepeat("666"));
  assert.equal(normalizeRepeat("  nice\u3000shot "), "niceshot");
  assert.notEqual(normalizeRepeat("6"), normalizeRepeat("666"));
  assert.notEqual(normalizeRepeat("good"), normalizeRepeat("god"));
  assert.notEqual(normalizeRepeat("2333"), normalizeRepeat("2444"));
});

test("the badge counts up to 99, then says 99+", () => {
  assert.equal(repeatBadge(2), "×2");
  assert.equal(repeatBadge(99), "×99");
  assert.equal(repeatBadge(100), "×99+");
});

function item(text) {
  return { text };
}

test("a repeat within the window names the first comment of its group", () => {
  const merger = new RepeatMerger();
  const first = item("2333");
  const yes = () => true;
  assert.equal(merger.leaderFor(first, 1000, yes), null);
  assert.equal(merger.leaderFor(item("23333333"), 1000 + MERGE_WINDOW_MS, yes), first);
  assert.equal(merger.leaderFor(item("other"), 2000, yes), null);
});

test("after the window, or when the first cannot take it, a repeat starts a group of its own", () => {
  const merger = new RepeatMerger(5000);
  const first = item("666");
  assert.equal(merger.leaderFor(first, 0, () => true), null);
  const late = item("6666");
  assert.equal(merger.leaderFor(late, 5001, () => true), null);
  assert.equal(merger.leaderFor(item("66666"), 6000, () => true), late); // the new group
  const gone = item("666666");
  assert.equal(merger.leaderFor(gone, 7000, (leader) => leader !== late), null); // late left
  assert.equal(merger.leaderFor(item("666"), 7500, () => true), gone);
});

test("a repeat due before its group's first (after a seek back) is not merged", () => {
  const merger = new RepeatMerger(5000);
  assert.equal(merger.leaderFor(item("ok"), 4000, () => true), null);
  assert.equal(merger.leaderFor(item("ok"), 3000, () => true), null);
});

test("old groups are forgotten once many are kept", () => {
  const merger = new RepeatMerger(1000);
  for (let n = 0; n < 600; n += 1) merger.leaderFor(item(`text ${n}`), n * 10, () => true);
  assert.ok(merger.groups.size < 600);
  assert.ok(merger.groups.has("text599"));
});
