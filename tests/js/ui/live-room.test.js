// LiveRoom with a real MessageList (on fake-dom.js), a fake history endpoint and a transport the
// test drives: what a page shows from loading to live, and after a reset.

import assert from "node:assert/strict";
import { test } from "node:test";

import { LiveRoom } from "../../../static/js/ui/live-room.js";
import { MessageList } from "../../../static/js/ui/messages.js";
import { fakeTransport } from "../client/fake-transport.js";
import { element, fakeDom } from "../fake-dom.js";
import { fakeFetch, htmlResponse, installGlobals, jsonResponse, settle } from "../fakes.js";

function event(seq, fields = {}) {
  const user = { id: 2, name: "bob" };
  return { seq, id: seq, kind: "message", text: `#${seq}`, user, ts: "2026-01-01T00:00:00Z", ...fields };
}

function setUp(t, options = {}) {
  const window = Object.assign(new EventTarget(), { location: { search: "", pathname: "/rooms/demo/" } });
  const fetch = fakeFetch();
  const transport = fakeTransport("WebSocket");
  let live = null;
  t.after(() => live?.client?.close()); // before the globals it uses go
  installGlobals(t, { document: fakeDom(), window, navigator: { onLine: true }, fetch });
  const list = new MessageList(element("ol"), element("div"), { empty: element("p") });
  const parts = { state: element("p"), loadOlder: element("button") };
  parts.loadOlder.hidden = true;
  const seen = { events: [], resets: 0, errors: [] };
  live = new LiveRoom({
    slug: "demo",
    historyUrl: "/rooms/demo/history",
    list,
    ...parts,
    transports: [transport],
    onEvents: (events) => seen.events.push(...events.map((each) => each.seq)),
    onReset: () => seen.resets++,
    onError: (error, what) => seen.errors.push(what),
    ...options,
  });
  return { live, list, parts, fetch, transport, seen };
}

function shown(list) {
  return list.list.children.map((item) => Number(item.dataset.seq));
}

function query(request) {
  return Object.fromEntries(new URL(request.url, "http://page").searchParams);
}

test("the latest history first, then the stream from its last seq: nothing missed, nothing twice", async (t) => {
  const { live, list, parts, fetch, transport, seen } = setUp(t);
  const started = live.start();
  const history = await fetch.waitFor(1);
  assert.deepEqual(query(history), { limit: "50" });
  history.respond(jsonResponse({ events: [event(8), event(9)], has_more: true, last_seq: 9 }));
  await started;
  assert.equal(transport.last.target.after, 9);
  assert.equal(parts.loadOlder.hidden, false);
  transport.last.hello(9);
  assert.equal(parts.state.textContent, "Connected");
  assert.equal(parts.state.title, "Connected over WebSocket");
  transport.last.events(9, 10);
  assert.deepEqual(shown(list), [8, 9, 10]);
  assert.deepEqual(seen.events, [10]);
  assert.equal(list.empty.hidden, true);
});

test("an empty room says so once its history is in", async (t) => {
  const { live, list, fetch } = setUp(t);
  const started = live.start();
  (await fetch.waitFor(1)).respond(jsonResponse({ events: [], has_more: false, last_seq: 0 }));
  await started;
  assert.equal(list.empty.hidden, false);
});

test("a history that cannot be loaded (after retries) leaves the page live with new messages", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const { live, list, fetch, transport, seen } = setUp(t);
  const started = live.start();
  for (let attempt = 1; attempt <= 5; attempt++) {
    (await fetch.waitFor(attempt)).respond(htmlResponse(503));
    await settle();
    if (attempt < 5) t.mock.timers.tick(60_000); // the pause before the next try
  }
  await started;
  assert.equal(fetch.requests.length, 5);
  assert.deepEqual(seen.errors, ["Could not load the latest messages; showing new ones only"]);
  assert.equal(transport.last.target.after, null);
  transport.last.hello(70);
  transport.last.events(70, 71);
  assert.deepEqual(shown(list), [71]);
});

test("Load older puts the page before the oldest shown above it, and hides when there is no more", async (t) => {
  const { live, list, parts, fetch } = setUp(t);
  const started = live.start();
  (await fetch.waitFor(1)).respond(jsonResponse({ events: [event(51), event(52)], has_more: true, last_seq: 52 }));
  await started;
  parts.loadOlder.dispatchEvent(new Event("click"));
  const older = await fetch.waitFor(2);
  assert.deepEqual(query(older), { limit: "50", before: "51" });
  assert.equal(parts.loadOlder.disabled, true);
  older.respond(jsonResponse({ events: [event(49), event(50)], has_more: false, last_seq: 52 }));
  await settle();
  assert.deepEqual(shown(list), [49, 50, 51, 52]);
  assert.equal(parts.loadOlder.hidden, true);
  assert.equal(parts.loadOlder.disabled, false);
});

test("a reset empties the list and shows the latest history again", async (t) => {
  const { live, list, fetch, transport, seen } = setUp(t);
  const started = live.start();
  (await fetch.waitFor(1)).respond(jsonResponse({ events: [event(1)], has_more: false, last_seq: 1 }));
  await started;
  transport.last.hello(1);
  transport.last.frame({ type: "reset", last_seq: 500, reason: "too_far_behind" });
  assert.deepEqual(shown(list), []);
  assert.equal(seen.resets, 1);
  (await fetch.waitFor(2)).respond(jsonResponse({ events: [event(499), event(500)], has_more: true, last_seq: 500 }));
  await settle();
  assert.deepEqual(shown(list), [499, 500]);
  transport.last.events(500, 501);
  assert.deepEqual(shown(list), [499, 500, 501]);
});

test("the composer posts the page's frame over the room's stream", async (t) => {
  const form = element("form");
  const input = element("input");
  const error = element("p");
  const { live, fetch, transport } = setUp(t, {
    composer: { form, input, error, noun: "comment", frame: (text) => ({ type: "danmaku", text, mode: "top" }) },
  });
  const started = live.start();
  (await fetch.waitFor(1)).respond(jsonResponse({ events: [], has_more: false, last_seq: 0 }));
  await started;
  transport.last.hello(0);
  input.value = "wow";
  form.dispatchEvent(new Event("submit", { cancelable: true }));
  const [frame] = transport.last.sent;
  assert.equal(frame.type, "danmaku");
  assert.equal(frame.text, "wow");
  assert.equal(frame.mode, "top");
  transport.last.frame({ type: "ack", nonce: frame.nonce, seq: 1, id: 1 });
  await settle();
  assert.equal(input.value, "");
});

test("the composer's characters-left count follows typing and empties with a taken post", async (t) => {
  const form = element("form");
  const input = element("input");
  input.value = "";
  const error = element("p");
  const charsLeft = element("p");
  charsLeft.dataset.max = "10";
  const sent = [];
  const { live, fetch, transport } = setUp(t, {
    composer: {
      form,
      input,
      error,
      charsLeft,
      noun: "comment",
      frame: (text) => ({ type: "danmaku", text }),
      onSent: (answer, text) => sent.push([answer.seq, text]),
    },
  });
  // It counts from the first keystroke, before the stream is there.
  assert.equal(charsLeft.hidden, true);
  input.value = "a".repeat(12);
  input.dispatchEvent(new Event("input"));
  assert.equal(charsLeft.textContent, "2 characters over the limit");
  assert.equal(charsLeft.dataset.over, "true");
  const started = live.start();
  (await fetch.waitFor(1)).respond(jsonResponse({ events: [], has_more: false, last_seq: 0 }));
  await started;
  transport.last.hello(0);
  input.value = "a".repeat(9);
  input.dispatchEvent(new Event("input"));
  assert.equal(charsLeft.textContent, "1 character left");
  form.dispatchEvent(new Event("submit", { cancelable: true }));
  const [frame] = transport.last.sent;
  transport.last.frame({ type: "ack", nonce: frame.nonce, seq: 1, id: 1 });
  await settle();
  assert.equal(input.value, "");
  assert.equal(charsLeft.hidden, true);
  assert.deepEqual(sent, [[1, "a".repeat(9)]]); // the page's own onSent still runs
});
