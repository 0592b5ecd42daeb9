import assert from "node:assert/strict";
import { test } from "node:test";

import { CloseCode } from "../../../static/js/client/protocol.js";
import { ROOM_EVENT_KINDS, sseTransport } from "../../../static/js/client/sse.js";
import { fakeDocument, fakeFetch, installGlobals, jsonResponse, settle } from "../fakes.js";

/** EventSource as the browser's, driven by the test: emit(name, data) delivers a named event. */
class FakeEventSource extends EventTarget {
  static opened = [];

  constructor(url) {
    super();
    this.url = url;
    this.closed = false;
    FakeEventSource.opened.push(this);
  }

  emit(name, data) {
    const event = new Event(name);
    event.data = typeof data === "string" ? data : JSON.stringify(data);
    this.dispatchEvent(event);
  }

  close() {
    this.closed = true;
  }
}

function open(t, target = { slug: "demo", after: 10 }) {
  FakeEventSource.opened = [];
  const fetch = fakeFetch();
  installGlobals(t, { EventSource: FakeEventSource, fetch, document: fakeDocument() });
  const seen = { opens: 0, frames: [], closes: [] };
  const conn = sseTransport.open(target, {
    onOpen: () => seen.opens++,
    onFrame: (frame) => seen.frames.push(frame),
    onClose: (info) => seen.closes.push(info),
  });
  return { conn, seen, source: FakeEventSource.opened[0], fetch };
}

test("the stream resumes after the client's cursor and carries the page's parameters", (t) => {
  const { source } = open(t, { slug: "demo", after: 41, params: { key: "overlay-key" } });
  assert.equal(source.url, "/rooms/demo/events?key=overlay-key&after=41");
});

test("the cursor's log epoch goes with it", (t) => {
  assert.equal(open(t, { slug: "demo", after: 41, epoch: "e1" }).source.url, "/rooms/demo/events?after=41&epoch=e1");
  assert.equal(open(t, { slug: "demo", after: null, epoch: "e1" }).source.url, "/rooms/demo/events");
});

test("named events become the WebSocket's frames", (t) => {
  const { source, seen } = open(t);
  source.dispatchEvent(new Event("open"));
  source.emit("hello", { type: "hello", last_seq: 10, room: { slug: "demo" } });
  source.emit("presence", { type: "presence", count: 2 });
  source.emit("message", { seq: 11, kind: "message", text: "hi" });
  source.emit("danmaku", { seq: 12, kind: "danmaku", text: "wow" });
  source.emit("reset", { type: "reset", last_seq: 40, reason: "too_far_behind" });
  assert.equal(seen.opens, 1);
  assert.deepEqual(seen.frames, [
    { type: "hello", last_seq: 10, room: { slug: "demo" } },
    { type: "presence", count: 2 },
    { type: "events", events: [{ seq: 11, kind: "message", text: "hi" }] },
    { type: "events", events: [{ seq: 12, kind: "danmaku", text: "wow" }] },
    { type: "reset", last_seq: 40, reason: "too_far_behind" },
  ]);
});

test("every kind of room event is listened for (EventSource drops names nobody listens to)", (t) => {
  const { source, seen } = open(t);
  ROOM_EVENT_KINDS.forEach((kind, index) => source.emit(kind, { seq: index + 1, kind }));
  assert.deepEqual(
    seen.frames.map((frame) => frame.events[0].kind),
    ["message", "danmaku", "delete", "clear", "ban", "unban", "settings", "system", "review", "pin"],
  );
});

test("garbage and events without a seq are ignored", (t) => {
  const { source, seen } = open(t);
  source.emit("message", "{not json");
  source.emit("message", { kind: "message" });
  source.emit("hello", "null");
  assert.deepEqual(seen.frames, []);
});

test("a failed stream is closed and reported once; EventSource never reconnects by itself", (t) => {
  const { source, seen } = open(t);
  source.dispatchEvent(new Event("error"));
  source.dispatchEvent(new Event("error"));
  assert.equal(source.closed, true);
  assert.deepEqual(seen.closes, [{ code: CloseCode.ABNORMAL, reason: "event stream failed" }]);
  source.emit("message", { seq: 11, kind: "message" });
  assert.deepEqual(seen.frames, []);
});

test("a private room's refusal ends the client's attempts (close 4403)", (t) => {
  const { source, seen } = open(t);
  source.emit("refused", { message: "This room is private." });
  assert.deepEqual(seen.closes, [{ code: CloseCode.FORBIDDEN, reason: "This room is private." }]);
});

test("a close the client asked for is not reported as a loss", (t) => {
  const { conn, source, seen } = open(t);
  conn.close();
  source.dispatchEvent(new Event("error"));
  assert.equal(source.closed, true);
  assert.deepEqual(seen.closes, []);
});

test("sends go over HTTP POST and their answer comes back as a frame; pings cannot", async (t) => {
  const { conn, seen, fetch } = open(t);
  assert.equal(conn.send({ type: "ping" }), false);
  assert.equal(conn.send({ type: "message", text: "hi", nonce: "a-1" }), true);
  const request = await fetch.waitFor(1);
  assert.equal(request.url, "/rooms/demo/messages");
  request.respond(jsonResponse({ type: "ack", seq: 11, id: 3 }));
  await settle();
  assert.deepEqual(seen.frames, [{ type: "ack", seq: 11, id: 3, nonce: "a-1" }]);
  conn.close();
  assert.equal(conn.send({ type: "message", text: "late", nonce: "a-2" }), false);
});
