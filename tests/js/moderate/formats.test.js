// The moderator's page in the page's language: times of the audit log, counts, the figures and
// the chart's labels through Intl for the language, and the sentences from the page's catalog.

import assert from "node:assert/strict";
import { test } from "node:test";

import { barTitle, chartLabel, scaleLabel } from "../../../static/js/moderate/chart.js";
import { actionParts, describeValue, detailName } from "../../../static/js/moderate/audit.js";
import { formatDuration, formatMoment, formatNumber, timeElement } from "../../../static/js/moderate/dom.js";
import { dryRunSummary } from "../../../static/js/moderate/dry-run.js";
import { figureText } from "../../../static/js/moderate/figures.js";
import { withRemoved } from "../../../static/js/moderate/actions.js";
import { setCatalog } from "../../../static/js/ui/i18n.js";
import { fakeDom } from "../fake-dom.js";

// Noon UTC: the same day in every time zone a test machine is likely to have.
const MOMENT = new Date(Date.UTC(2026, 0, 2, 12, 4, 5));
const OTHER_DAY = new Date(Date.UTC(2026, 5, 20, 12));

function japanese(t, catalog) {
  t.after(() => setCatalog(null));
  setCatalog({ catalog, plural: "0" });
}

test("counts are grouped as the language groups digits", () => {
  assert.equal(formatNumber(1234567, "en"), "1,234,567");
  assert.equal(formatNumber(1234567, "de"), "1.234.567");
  assert.equal(formatNumber(1234567, "ja"), "1,234,567");
  assert.equal(figureText(12345, "de"), "12.345");
  assert.equal(figureText(undefined, "de"), "–");
});

test("a time of today shows the language's clock; another day's shows the language's date", () => {
  assert.match(formatMoment(MOMENT, { seconds: true, language: "en", now: MOMENT }), /^\d{2}:04:05 [AP]M$/);
  assert.match(formatMoment(MOMENT, { seconds: true, language: "ja", now: MOMENT }), /^\d{2}:04:05$/);
  assert.match(formatMoment(MOMENT, { language: "ja", now: MOMENT }), /^\d{2}:04$/);
  assert.match(formatMoment(MOMENT, { language: "ja", now: OTHER_DAY }), /^2026\/01\/02 \d{1,2}:04:05$/);
  assert.match(formatMoment(MOMENT, { language: "zh-hans", now: OTHER_DAY }), /^2026年1月2日 \d{2}:04:05$/);
  assert.match(formatMoment(MOMENT, { language: "en", now: OTHER_DAY }), /^Jan 2, 2026, /);
});

test("an audit entry's <time> is written and titled in the page's language", (t) => {
  const saved = globalThis.document;
  t.after(() => {
    globalThis.document = saved;
  });
  globalThis.document = fakeDom();
  const node = timeElement(MOMENT.toISOString(), { seconds: true, language: "ja" });
  assert.equal(node.dateTime, "2026-01-02T12:04:05.000Z");
  assert.match(node.title, /^2026\/01\/02 \d{1,2}:04:05$/);
  assert.doesNotMatch(node.textContent, /[AP]M/);
  assert.equal(timeElement("soon", { language: "ja" }), null);
});

test("lengths of time take the catalog's units and the language's digits", (t) => {
  japanese(t, {
    "%(count)s s": "%(count)s 秒",
    "%(count)s min": "%(count)s 分",
    "%(hours)s h %(minutes)s min": "%(hours)s 時間 %(minutes)s 分",
    "%(count)s d": "%(count)s 日",
  });
  assert.equal(formatDuration(45, "ja"), "45 秒");
  assert.equal(formatDuration(300, "ja"), "5 分");
  assert.equal(formatDuration(9000, "ja"), "2 時間 30 分");
  assert.equal(formatDuration(86_400 * 1500, "de"), "1.500 日");
});

test("the chart's description, bars and scale are sentences of the catalog with the language's numbers", (t) => {
  assert.equal(
    chartLabel(1234, 60, 99, "en"),
    "1,234 messages in the last 60 minutes; at most 99 in a minute",
  );
  assert.match(barTitle(MOMENT, 1, "en"), /^\d{2}:04 [AP]M: 1 message$/);
  assert.equal(chartLabel(1, 60, 1, "en"), "1 message in the last 60 minutes; at most 1 in a minute");
  assert.match(barTitle(MOMENT, 2000, "en"), /^\d{2}:04 [AP]M: 2,000 messages$/);
  assert.equal(scaleLabel(1500, "de"), "1.500 / min");
  japanese(t, {
    "%(total)s message in the last %(minutes)s minutes; at most %(highest)s in a minute": [
      "直近 %(minutes)s 分間のメッセージ %(total)s 件。1 分あたり最大 %(highest)s 件",
    ],
    "%(minute)s: %(count)s message": ["%(minute)s：%(count)s 件"],
    "%(count)s / min": "%(count)s 件/分",
  });
  assert.equal(chartLabel(1234, 60, 99, "ja"), "直近 60 分間のメッセージ 1,234 件。1 分あたり最大 99 件");
  assert.match(barTitle(MOMENT, 1, "ja"), /^\d{2}:04：1 件$/);
  assert.equal(barTitle(null, 3, "ja"), "?：3 件");
  assert.equal(scaleLabel(7, "ja"), "7 件/分");
});

test("an audit line is the catalog's sentence around the actor's and the target's own nodes", (t) => {
  const actor = { name: "actor node" };
  const target = { name: "target node" };
  assert.deepEqual(actionParts({ action: "ban" }, { actor, target }), [actor, " banned ", target]);
  assert.deepEqual(actionParts({ action: "made_up_thing" }, { actor, target }), [actor, ": ", "made up thing"]);
  japanese(t, {
    "%(actor)s banned %(target)s": "%(actor)s が %(target)s を追放",
    "%(actor)s cleared the room": "%(actor)s がルームを全消去",
    "audit value\u0004true": "オン",
    "setting\u0004slow mode seconds": "スローモード（秒）",
    "%(name)s: %(value)s": "%(name)s：%(value)s",
    "list separator\u0004; ": "／",
  });
  assert.deepEqual(actionParts({ action: "ban" }, { actor, target }), [actor, " が ", target, " を追放"]);
  assert.deepEqual(actionParts({ action: "clear" }, { actor, target }), [actor, " がルームを全消去"]);
  assert.equal(detailName("slow_mode_seconds"), "スローモード（秒）");
  assert.equal(detailName("some_new_key"), "some new key");
  assert.equal(describeValue({ slow_mode_seconds: 7, private: true }), "スローモード（秒）：7／private：オン");
});

test("figures in the page's sentences are grouped for the language", (t) => {
  assert.equal(
    dryRunSummary({ checked: 1000, caught: 3 }, "en"),
    "They would have caught 3 of the last 1,000 messages.",
  );
  assert.equal(dryRunSummary({ checked: 1, caught: 0 }, "en"), "They would have caught none of the last 1 message.");
  assert.equal(dryRunSummary({ checked: 1000, caught: 0 }, "de"), "They would have caught none of the last 1.000 messages.");
  assert.equal(withRemoved("bob is banned from the room.", 1), "bob is banned from the room. 1 of their messages removed.");
  japanese(t, {
    "They would have caught %(caught)s of the last %(checked)s message.": [
      "直近 %(checked)s 件のメッセージのうち %(caught)s 件が該当します。",
    ],
    "%(done)s %(count)s of their messages removed.": ["%(done)s そのユーザーのメッセージ %(count)s 件を削除しました。"],
  });
  assert.equal(
    dryRunSummary({ checked: 1000, caught: 3 }, "ja"),
    "直近 1,000 件のメッセージのうち 3 件が該当します。",
  );
  assert.equal(
    withRemoved("bob を追放しました。", 1200),
    "bob を追放しました。 そのユーザーのメッセージ 1,200 件を削除しました。",
  );
});
