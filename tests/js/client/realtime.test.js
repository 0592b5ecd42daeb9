// RoomClient against transports the test drives (fake-transport.js), on mocked timers: the
// cursor and resuming from it, duplicates dropped by seq, the fallback order and moving back up,
// the answers to sends, and the refusals that stop it.

import assert from "node:assert/strict";
import { test } from "node:test";

import { RoomError } from "../../../static/js/client/answers.js";
import { Backoff } from "../../../static/js/client/backoff.js";
import { ConnectionState } from "../../../static/js/client/connection-state.js";
import { CloseCode } from "../../../static/js/client/protocol.js";
import { RoomClient } from "../../../static/js/client/realtime.js";
import { installGlobals, settle } from "../fakes.js";
import { fakeTransport } from "./fake-transport.js";

// The client's timings (realtime.js), as a page would notice them.
const HELLO_TIMEOUT_MS = 10_000;
const PING_INTERVAL_MS = 25_000;
const PONG_TIMEOUT_MS = 10_000;
const SEND_TIMEOUT_MS = 15_000;
// Live on a fallback, the first try of a better transport comes 30 to 60 s later (jitter); with
// Math.random() at 0.5 below, after 45 s, then 90 s, ...
const FIRST_PROBE_MS = 45_000;

const clientsOf = new WeakMap(); // test -> the clients it made, closed after it

function setUp(t, { names = ["WebSocket", "SSE", "polling"], after = null, online = true } = {}) {
  if (!clientsOf.has(t)) {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    clientsOf.set(t, []);
    // Registered before the globals the clients use, so it runs before they are taken away.
    t.after(() => clientsOf.get(t).forEach((each) => each.close()));
  }
  const window = new EventTarget();
  installGlobals(t, { window, navigator: { onLine: online } });
  const attempts = [];
  const transports = names.map((name) => fakeTransport(name, { log: attempts }));
  // Backoff delays of exactly half their bound: 250 ms, 500 ms, 1 s, ...
  const client = new RoomClient("demo", { after, transports, backoff: new Backoff({ random: () => 0.5 }) });
  clientsOf.get(t).push(client);
  const seen = { states: [], events: [], presence: [], resets: [], notices: [], hellos: [] };
  client.on("state", (detail) => seen.states.push(detail));
  client.on("events", ({ events }) => seen.events.push(...events.map((event) => event.seq)));
  client.on("presence", (detail) => seen.presence.push(detail));
  client.on("reset", (detail) => seen.resets.push(detail));
  client.on("notice", (error) => seen.notices.push(error));
  client.on("hello", (detail) => seen.hellos.push(detail));
  return { client, seen, window, attempts, ws: transports[0], sse: transports[1], poll: transports[2] };
}

/** Let the reconnect backoff (at most `ms`) run out. */
function wait(t, ms) {
  t.mock.timers.tick(ms);
}

function attemptsOf(...transports) {
  return transports.map((transport) => transport.attempts.length);
}

test("it resumes from the page's cursor, and after a drop from the newest seq it passed on", (t) => {
  const { client, seen, ws } = setUp(t, { after: 41 });
  client.connect();
  assert.equal(ws.last.target.after, 41);
  ws.last.hello(45);
  ws.last.events(42, 43);
  assert.deepEqual(seen.events, [42, 43]);
  assert.equal(client.lastSeq, 43);
  ws.last.drop();
  assert.equal(client.state, ConnectionState.RECONNECTING);
  assert.equal(seen.states.at(-1).delayMs, 250);
  wait(t, 250);
  assert.equal(ws.attempts.length, 2);
  assert.equal(ws.last.target.after, 43);
});

test("a page with nothing shown starts live: the cursor is the hello's last_seq", (t) => {
  const { client, seen, ws } = setUp(t);
  client.connect();
  assert.equal(ws.last.target.after, null);
  ws.last.hello(30, { me: { id: 1, name: "alice" }, presence: { count: 3 } });
  assert.equal(client.lastSeq, 30);
  assert.deepEqual(client.me, { id: 1, name: "alice" });
  assert.deepEqual(seen.presence, [{ count: 3 }]);
  ws.last.events(29, 30, 31);
  assert.deepEqual(seen.events, [31]);
});

test("each seq is passed on once, in order, whatever the server repeats", (t) => {
  const { client, seen, ws } = setUp(t, { after: 10 });
  client.connect();
  ws.last.hello(10);
  ws.last.events(11, 12);
  ws.last.events(12, 11, 13);
  ws.last.frame({ type: "events", events: [{ kind: "message" }, null, { seq: "14" }] });
  ws.last.drop();
  wait(t, 250);
  ws.last.hello(15);
  ws.last.events(12, 13, 14, 15); // a replay that overlaps what was shown
  assert.deepEqual(seen.events, [11, 12, 13, 14, 15]);
});

test("a reset moves the cursor to where the server says and tells the page to reload", (t) => {
  const { client, seen, ws } = setUp(t, { after: 5 });
  client.connect();
  ws.last.hello(900);
  ws.last.frame({ type: "reset", last_seq: 900, reason: "too_far_behind" });
  assert.deepEqual(seen.resets, [{ last_seq: 900, reason: "too_far_behind" }]);
  assert.equal(client.lastSeq, 900);
  ws.last.events(6, 901);
  assert.deepEqual(seen.events, [901]);
});

test("two failed attempts move down: WebSocket, then SSE, then long-poll, then around again", (t) => {
  const { client, seen, attempts } = setUp(t);
  client.connect();
  for (let failure = 0; failure < 6; failure++) {
    attempts.at(-1).drop(CloseCode.ABNORMAL, "refused");
    wait(t, 30_000);
  }
  assert.deepEqual(
    attempts.map((attempt) => attempt.transport.name),
    ["WebSocket", "WebSocket", "SSE", "SSE", "polling", "polling", "WebSocket"],
  );
  assert.equal(client.state, ConnectionState.CONNECTING); // never live: not "reconnecting"
  assert.deepEqual(seen.states.at(-1), { state: ConnectionState.CONNECTING, transport: "WebSocket" });
});

test("an attempt silent for 10 s before its hello has failed", (t) => {
  const { client, ws, sse } = setUp(t);
  client.connect();
  wait(t, HELLO_TIMEOUT_MS - 1);
  assert.equal(ws.last.closed, false);
  wait(t, 1);
  assert.equal(ws.last.closed, true);
  wait(t, 250);
  wait(t, HELLO_TIMEOUT_MS);
  wait(t, 500);
  assert.deepEqual(attemptsOf(ws, sse), [2, 1]);
});

test("a drop after hello is no failure of the transport: it reconnects on the same one", (t) => {
  const { client, ws, sse } = setUp(t);
  client.connect();
  for (let round = 0; round < 4; round++) {
    ws.last.hello(0);
    ws.last.drop();
    wait(t, 30_000);
  }
  assert.deepEqual(attemptsOf(ws, sse), [5, 0]);
  assert.equal(client.state, ConnectionState.RECONNECTING);
});

test("a transport that was live here gets five failures before the next is tried", (t) => {
  const { client, ws, sse } = setUp(t);
  client.connect();
  ws.last.hello(0);
  ws.last.drop(); // a server restart: every attempt fails for a while
  for (let failure = 0; failure < 5; failure++) {
    wait(t, 30_000);
    assert.equal(sse.attempts.length, 0, `after ${failure} failures`);
    ws.last.drop();
  }
  wait(t, 30_000);
  assert.deepEqual(attemptsOf(ws, sse), [6, 1]);
});

test("given one transport (?transport=), it never falls back", (t) => {
  const { client, ws } = setUp(t, { names: ["SSE"] });
  client.connect();
  for (let failure = 0; failure < 6; failure++) {
    ws.last.drop();
    wait(t, 30_000);
  }
  assert.equal(ws.attempts.length, 7);
  assert.ok(ws.attempts.every((attempt) => attempt.transport.name === "SSE"));
});

test("transports the browser lacks are skipped; with none, it fails at once", (t) => {
  const { client, ws, sse } = setUp(t);
  ws.isSupported = () => false;
  client.connect();
  assert.deepEqual(attemptsOf(ws, sse), [0, 1]);

  const none = setUp(t, { names: ["WebSocket"] });
  none.ws.isSupported = () => false;
  none.client.connect();
  assert.equal(none.client.state, ConnectionState.FAILED);
});

/** Live on SSE after the WebSocket failed twice. */
function liveOnSse(t, options) {
  const setup = setUp(t, options);
  t.mock.method(Math, "random", () => 0.5);
  setup.client.connect();
  setup.ws.last.drop();
  wait(t, 250);
  setup.ws.last.drop();
  wait(t, 500);
  setup.sse.last.hello(20);
  return setup;
}

test("live on a fallback, it tries the better transport in the background and moves up", (t) => {
  const { client, seen, ws, sse } = liveOnSse(t, { after: 20 });
  assert.equal(client.transport.name, "SSE");
  sse.last.events(21, 22);
  wait(t, FIRST_PROBE_MS - 1);
  assert.equal(ws.attempts.length, 2);
  wait(t, 1);
  const probe = ws.last;
  assert.equal(probe.target.after, 22); // resumes from the cursor: nothing missed
  sse.last.events(23);
  probe.hello(23);
  assert.equal(client.transport.name, "WebSocket");
  assert.equal(sse.last.closed, true);
  assert.deepEqual(seen.states.at(-1), { state: ConnectionState.LIVE, transport: "WebSocket" });
  probe.events(23, 24); // 23 came over both: once
  assert.deepEqual(seen.events, [21, 22, 23, 24]);
});

test("a probe that fails leaves the live connection alone and tries again later, less often", (t) => {
  const { client, ws, sse } = liveOnSse(t);
  wait(t, FIRST_PROBE_MS);
  ws.last.drop();
  assert.equal(client.transport.name, "SSE");
  assert.equal(sse.last.closed, false);
  assert.equal(client.state, ConnectionState.LIVE);
  wait(t, 2 * FIRST_PROBE_MS - 1);
  assert.equal(ws.attempts.length, 3);
  wait(t, 1);
  assert.equal(ws.attempts.length, 4);
});

test("a send resolves with the ack that carries its nonce", async (t) => {
  const { client, ws } = setUp(t);
  client.connect();
  ws.last.hello(0);
  const first = client.send("hello");
  const second = client.sendFrame({ type: "danmaku", text: "wow", mode: "top" });
  const [message, comment] = ws.last.sent;
  assert.equal(message.type, "message");
  assert.equal(message.text, "hello");
  assert.equal(comment.mode, "top");
  assert.notEqual(message.nonce, comment.nonce);
  ws.last.frame({ type: "ack", nonce: comment.nonce, seq: 2, id: 8 });
  ws.last.frame({ type: "ack", nonce: message.nonce, seq: 1, id: 7 });
  assert.deepEqual(await first, { seq: 1, id: 7 });
  assert.deepEqual(await second, { seq: 2, id: 8 });
});

test("a message held for review resolves with held and the server's message", async (t) => {
  const { client, ws } = setUp(t);
  client.connect();
  ws.last.hello(0);
  const sent = client.send("needs a look");
  const { nonce } = ws.last.sent[0];
  const notice = "A moderator will review your message before it appears.";
  ws.last.frame({ type: "ack", nonce, held: true, held_id: 3, message: notice });
  assert.deepEqual(await sent, { seq: null, id: null, held: true, held_id: 3, message: notice });
});

test("an answer that arrives on a connection already replaced still settles its send", async (t) => {
  const { client, ws, sse } = liveOnSse(t);
  wait(t, FIRST_PROBE_MS - 1000);
  const plain = client.send("over SSE");
  const held = client.send("held over SSE");
  const [first, second] = sse.last.sent;
  wait(t, 1000); // the WebSocket is tried again while the posts are on their way
  ws.last.hello(20);
  assert.equal(client.transport.name, "WebSocket");
  // The HTTP POSTs' answers come back through the SSE connection's handler.
  sse.attempts.at(-1).frame({ type: "ack", nonce: first.nonce, seq: 21, id: 1 });
  sse.attempts.at(-1).frame({ type: "ack", nonce: second.nonce, held: true, held_id: null, message: "Held." });
  sse.attempts.at(-1).events(30); // not an answer: ignored
  assert.deepEqual(await plain, { seq: 21, id: 1 });
  assert.deepEqual(await held, { seq: null, id: null, held: true, held_id: null, message: "Held." });
  assert.equal(client.lastSeq, 20);
});

test("a refused send rejects with the server's code and fields", async (t) => {
  const { client, ws } = setUp(t);
  client.connect();
  ws.last.hello(0);
  const sent = client.send("too fast");
  const { nonce } = ws.last.sent[0];
  ws.last.frame({ type: "error", nonce, code: "rate_limited", message: "Slow down.", retry_after: 3 });
  await assert.rejects(sent, (error) => {
    assert.ok(error instanceof RoomError);
    assert.equal(error.code, "rate_limited");
    assert.equal(error.message, "Slow down.");
    assert.equal(error.retry_after, 3);
    return true;
  });
});

test("an error that answers no send of ours is a notice", (t) => {
  const { client, seen, ws } = setUp(t);
  client.connect();
  ws.last.hello(0);
  ws.last.frame({ type: "error", code: "bad_frame", message: "What was that?" });
  ws.last.frame({ type: "error", nonce: "someone-else", code: "x" });
  assert.deepEqual(
    seen.notices.map((error) => error.code),
    ["bad_frame", "x"],
  );
});

test("a send fails at once when not connected, or when far too big to send", async (t) => {
  const { client, ws } = setUp(t);
  await assert.rejects(client.send("early"), { code: "not_connected" });
  client.connect();
  ws.last.hello(0);
  await assert.rejects(client.send("x".repeat(70_000)), { code: "too_long" });
  ws.last.acceptsSends = false;
  await assert.rejects(client.send("hi"), { code: "not_connected" });
  assert.deepEqual(ws.last.sentOf("message"), []);
});

test("a send with no answer in 15 s fails as a timeout", async (t) => {
  const { client, ws } = setUp(t);
  client.connect();
  ws.last.hello(0);
  const sent = client.send("anyone?");
  wait(t, SEND_TIMEOUT_MS);
  await assert.rejects(sent, { code: "timeout" });
});

test("a send pending when the connection drops fails as disconnected (or too big, on 1009)", async (t) => {
  const { client, ws } = setUp(t);
  client.connect();
  ws.last.hello(0);
  const lost = client.send("one");
  ws.last.drop();
  await assert.rejects(lost, { code: "disconnected" });
  wait(t, 250);
  ws.last.hello(0);
  const big = client.send("two");
  ws.last.drop(CloseCode.MESSAGE_TOO_BIG);
  await assert.rejects(big, { code: "too_long" });
});

test("a room that does not exist, or refuses us, stops the attempts", (t) => {
  const gone = setUp(t);
  gone.client.connect();
  gone.ws.last.drop(CloseCode.ROOM_NOT_FOUND);
  assert.equal(gone.client.state, ConnectionState.NOT_FOUND);
  const refused = setUp(t);
  refused.client.connect();
  refused.ws.last.drop(CloseCode.FORBIDDEN, "This room is private.");
  assert.deepEqual(refused.seen.states.at(-1), {
    state: ConnectionState.FAILED,
    transport: "WebSocket",
    reason: "This room is private.",
  });
  wait(t, 60_000);
  assert.equal(gone.ws.attempts.length, 1);
  assert.equal(refused.ws.attempts.length, 1);
});

test("too many connections from one address is retried after the backoff", (t) => {
  const { client, ws } = setUp(t);
  client.connect();
  ws.last.drop(CloseCode.TOO_MANY_CONNECTIONS);
  assert.equal(client.state, ConnectionState.CONNECTING);
  wait(t, 250);
  assert.equal(ws.attempts.length, 2);
});

test("a busy server is retried after the backoff, not given up", (t) => {
  const { client, ws } = setUp(t);
  client.connect();
  ws.last.drop(CloseCode.SERVER_BUSY);
  assert.equal(client.state, ConnectionState.CONNECTING);
  wait(t, 250);
  assert.equal(ws.attempts.length, 2);
});

test("offline, it waits for the browser to be online again", (t) => {
  const { client, window, ws } = setUp(t, { online: false });
  client.connect();
  assert.equal(client.state, ConnectionState.OFFLINE);
  assert.equal(ws.attempts.length, 0);
  globalThis.navigator.onLine = true;
  window.dispatchEvent(new Event("online"));
  assert.equal(ws.attempts.length, 1);
});

test("a ping unanswered for 10 s means the connection is dead", (t) => {
  const { client, ws } = setUp(t);
  client.connect();
  ws.last.hello(0);
  wait(t, PING_INTERVAL_MS);
  assert.equal(ws.last.sentOf("ping").length, 1);
  ws.last.frame({ type: "pong" });
  wait(t, PING_INTERVAL_MS);
  assert.equal(ws.last.sentOf("ping").length, 2);
  wait(t, PONG_TIMEOUT_MS);
  assert.equal(ws.last.closed, true);
  assert.equal(client.state, ConnectionState.RECONNECTING);
});

test("close() stops for good: the connection closes and pending sends fail", async (t) => {
  const { client, ws } = setUp(t);
  client.connect();
  ws.last.hello(0);
  const pending = client.send("bye");
  client.close();
  assert.equal(client.state, ConnectionState.CLOSED);
  assert.equal(ws.last.closed, true);
  await assert.rejects(pending, { code: "disconnected" });
  wait(t, 60_000);
  assert.equal(ws.attempts.length, 1);
  await settle();
});

test("the log epoch goes back with every resume; only a reset replaces it", (t) => {
  const { client, seen, ws } = setUp(t, { after: 41 });
  client.epoch = "e1"; // as the page passes it from its history
  client.connect();
  assert.equal(ws.last.target.epoch, "e1");
  ws.last.hello(45, { epoch: "e2" }); // another log: the server follows with a reset
  assert.equal(client.epoch, "e1");
  ws.last.drop(); // before the reset arrived: the next attempt still says e1, and is reset
  wait(t, 250);
  assert.deepEqual([ws.last.target.after, ws.last.target.epoch], [41, "e1"]);
  ws.last.hello(45, { epoch: "e2" });
  ws.last.frame({ type: "reset", last_seq: 45, reason: "epoch_changed", epoch: "e2" });
  assert.deepEqual(seen.resets, [{ last_seq: 45, reason: "epoch_changed" }]);
  assert.deepEqual([client.lastSeq, client.epoch], [45, "e2"]);
  ws.last.drop();
  wait(t, 1000); // the second drop in a row waits longer
  assert.deepEqual([ws.last.target.after, ws.last.target.epoch], [45, "e2"]);
});

test("a client without an epoch takes the hello's", (t) => {
  const { client, ws } = setUp(t);
  client.connect();
  assert.equal(ws.last.target.epoch, null);
  ws.last.hello(30, { epoch: "e7" });
  assert.equal(client.epoch, "e7");
  ws.last.drop();
  wait(t, 250);
  assert.deepEqual([ws.last.target.after, ws.last.target.epoch], [30, "e7"]);
});
