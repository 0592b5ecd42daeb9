import assert from "node:assert/strict";
import { test } from "node:test";

import { longPollTransport, POLL_TIMEOUT_S } from "../../../static/js/client/longpoll.js";
import { CloseCode } from "../../../static/js/client/protocol.js";
import { fakeDocument, fakeFetch, htmlResponse, installGlobals, jsonResponse, settle } from "../fakes.js";

const PRESENCE = { count: 1, guests: 1, users: [] };

function open(t, target = { slug: "demo", after: null }) {
  const fetch = fakeFetch();
  installGlobals(t, { fetch, document: fakeDocument() });
  const seen = { opens: 0, frames: [], closes: [] };
  const conn = longPollTransport.open(target, {
    onOpen: () => seen.opens++,
    onFrame: (frame) => seen.frames.push(frame),
    onClose: (info) => seen.closes.push(info),
  });
  t.after(() => conn.close());
  return { conn, seen, fetch };
}

function query(request) {
  return Object.fromEntries(new URL(request.url, "http://page").searchParams);
}

test("the first poll answers at once and stands in for hello; the next ones wait after the cursor", async (t) => {
  const { seen, fetch } = open(t);
  const greeting = await fetch.waitFor(1);
  assert.deepEqual(query(greeting), {});
  greeting.respond(jsonResponse({ last_seq: 30, events: [], presence: PRESENCE }));
  const poll = await fetch.waitFor(2);
  assert.equal(seen.opens, 1);
  assert.deepEqual(seen.frames, [{ type: "hello", room: { slug: "demo" }, last_seq: 30, presence: PRESENCE }]);
  assert.deepEqual(query(poll), { after: "30", timeout: String(POLL_TIMEOUT_S) });
});

test("a client with a cursor resumes from it, not from the room's newest", async (t) => {
  const { fetch } = open(t, { slug: "demo", after: 12, params: { key: "k" } });
  (await fetch.waitFor(1)).respond(jsonResponse({ last_seq: 30, events: [], presence: PRESENCE }));
  assert.deepEqual(query(await fetch.waitFor(2)), { key: "k", after: "12", timeout: "25" });
});

test("answers become events, presence (when it changed) and reset frames; last_seq is the next cursor", async (t) => {
  const { seen, fetch } = open(t);
  (await fetch.waitFor(1)).respond(jsonResponse({ last_seq: 30, events: [], presence: PRESENCE }));
  const events = [{ seq: 31, kind: "message", text: "hi" }];
  (await fetch.waitFor(2)).respond(jsonResponse({ last_seq: 31, events, presence: PRESENCE }));
  const third = await fetch.waitFor(3);
  assert.equal(query(third).after, "31");
  const busier = { count: 2, guests: 1, users: [{ id: 1, name: "alice" }] };
  third.respond(jsonResponse({ last_seq: 32, events: [{ seq: 32, kind: "message" }], presence: busier }));
  const fourth = await fetch.waitFor(4);
  fourth.respond(jsonResponse({ last_seq: 90, events: [], reset: "too_far_behind", presence: busier }));
  await fetch.waitFor(5);
  assert.deepEqual(seen.frames.slice(1), [
    { type: "events", events },
    { type: "events", events: [{ seq: 32, kind: "message" }] },
    { ...busier, type: "presence" },
    { type: "reset", last_seq: 90, reason: "too_far_behind" },
  ]);
  assert.equal(query(fetch.requests[4]).after, "90");
});

test("a refused poll closes with the code the client acts on", async (t) => {
  for (const [status, code] of [
    [404, CloseCode.ROOM_NOT_FOUND],
    [403, CloseCode.FORBIDDEN],
    [400, CloseCode.BAD_REQUEST],
    [502, CloseCode.ABNORMAL],
  ]) {
    const { seen, fetch } = open(t);
    (await fetch.waitFor(1)).respond(htmlResponse(status));
    await settle();
    assert.equal(seen.closes.length, 1, status);
    assert.equal(seen.closes[0].code, code, status);
    assert.equal(seen.opens, 0);
  }
});

test("an answer without last_seq is a failure, not a cursor of undefined", async (t) => {
  const { seen, fetch } = open(t);
  (await fetch.waitFor(1)).respond(jsonResponse({ events: [] }));
  await settle();
  assert.deepEqual(seen.closes, [{ code: CloseCode.ABNORMAL, reason: "The server's answer was not understood." }]);
});

test("close() abandons the poll in flight and reports nothing", async (t) => {
  const { conn, seen, fetch } = open(t);
  const greeting = await fetch.waitFor(1);
  conn.close();
  await settle();
  assert.equal(greeting.init.signal.aborted, true);
  assert.deepEqual(seen.closes, []);
  assert.equal(fetch.requests.length, 1);
});

test("an empty answer that came back at once is followed by a pause, not a tight loop", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout", "Date"] });
  const { fetch } = open(t);
  (await fetch.waitFor(1)).respond(jsonResponse({ last_seq: 30, events: [] }));
  (await fetch.waitFor(2)).respond(jsonResponse({ last_seq: 30, events: [] }));
  await settle();
  assert.equal(fetch.requests.length, 2);
  t.mock.timers.tick(999);
  await settle();
  assert.equal(fetch.requests.length, 2);
  t.mock.timers.tick(1);
  await fetch.waitFor(3);
});

test("a poll unanswered for 35 s is abandoned as lost", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout", "Date"] });
  const { seen, fetch } = open(t);
  (await fetch.waitFor(1)).respond(jsonResponse({ last_seq: 30, events: [] }));
  await fetch.waitFor(2);
  t.mock.timers.tick(34_999);
  await settle();
  assert.deepEqual(seen.closes, []);
  t.mock.timers.tick(1);
  await settle();
  assert.deepEqual(seen.closes, [{ code: CloseCode.ABNORMAL, reason: "poll timed out" }]);
});

test("sends go over HTTP POST; pings cannot", async (t) => {
  const { conn, seen, fetch } = open(t);
  assert.equal(conn.send({ type: "ping" }), false);
  assert.equal(conn.send({ type: "message", text: "hi", nonce: 1 }), true);
  const post = fetch.requests.find((request) => request.init.method === "POST") ?? (await fetch.waitFor(2));
  assert.equal(post.url, "/rooms/demo/messages");
  post.respond(jsonResponse({ type: "error", code: "empty", message: "The message is empty." }));
  await settle();
  assert.deepEqual(seen.frames, [{ type: "error", code: "empty", message: "The message is empty.", nonce: 1 }]);
});

test("polls carry the cursor's log epoch; a reset answer switches to the new one", async (t) => {
  const { seen, fetch } = open(t, { slug: "demo", after: 12, epoch: "e1" });
  (await fetch.waitFor(1)).respond(jsonResponse({ last_seq: 30, epoch: "e2", events: [], presence: PRESENCE }));
  const first = await fetch.waitFor(2);
  assert.equal(seen.frames[0].epoch, "e2");
  assert.deepEqual(query(first), { after: "12", epoch: "e1", timeout: "25" });
  first.respond(jsonResponse({ last_seq: 30, epoch: "e2", events: [], reset: "epoch_changed", presence: PRESENCE }));
  const second = await fetch.waitFor(3);
  assert.deepEqual(seen.frames.at(-1), { type: "reset", last_seq: 30, reason: "epoch_changed", epoch: "e2" });
  assert.deepEqual(query(second), { after: "30", epoch: "e2", timeout: "25" });
});

test("a client starting live takes the greeting's epoch", async (t) => {
  const { fetch } = open(t);
  (await fetch.waitFor(1)).respond(jsonResponse({ last_seq: 30, epoch: "e5", events: [], presence: PRESENCE }));
  assert.deepEqual(query(await fetch.waitFor(2)), { after: "30", epoch: "e5", timeout: "25" });
});

test("a refused poll closes with the server's reason, in the language it answered in", async (t) => {
  const { seen, fetch } = open(t);
  (await fetch.waitFor(1)).respond(
    jsonResponse(
      { type: "error", code: "private_room", message: "このルームは非公開です。メンバーだけが入れます。" },
      { status: 403 },
    ),
  );
  await settle();
  assert.deepEqual(seen.closes, [
    { code: CloseCode.FORBIDDEN, reason: "このルームは非公開です。メンバーだけが入れます。" },
  ]);
});
