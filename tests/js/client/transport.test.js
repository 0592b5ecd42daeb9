import assert from "node:assert/strict";
import { test } from "node:test";

import {
  DEFAULT_TRANSPORTS,
  longPollTransport,
  sseTransport,
  transportsFor,
  webSocketTransport,
  webSocketUrl,
} from "../../../static/js/client/transport.js";

test("transports are tried WebSocket first, then SSE, then long-poll", () => {
  assert.deepEqual(
    DEFAULT_TRANSPORTS.map((transport) => transport.name),
    ["WebSocket", "SSE", "polling"],
  );
});

test("?transport= forces one transport, and only it", () => {
  assert.deepEqual(transportsFor("ws"), [webSocketTransport]);
  assert.deepEqual(transportsFor("sse"), [sseTransport]);
  assert.deepEqual(transportsFor("poll"), [longPollTransport]);
});

test("no ?transport=, or one nobody knows, keeps every transport in order", (t) => {
  const warn = t.mock.method(console, "warn", () => {});
  assert.equal(transportsFor(null), DEFAULT_TRANSPORTS);
  assert.equal(transportsFor(""), DEFAULT_TRANSPORTS);
  assert.equal(warn.mock.callCount(), 0);
  // Names of Object.prototype are not transports either.
  for (const unknown of ["carrier-pigeon", "constructor", "__proto__", "toString"]) {
    assert.equal(transportsFor(unknown), DEFAULT_TRANSPORTS, unknown);
  }
  assert.equal(warn.mock.callCount(), 4);
});

test("the WebSocket address follows the page's scheme and host", () => {
  const page = { protocol: "https:", host: "chat.example:8443" };
  assert.equal(webSocketUrl("demo", null, page), "wss://chat.example:8443/ws/rooms/demo/");
  assert.equal(
    webSocketUrl("a b", 41, { protocol: "http:", host: "localhost" }, { key: "k&y" }),
    "ws://localhost/ws/rooms/a%20b/?key=k%26y&after=41",
  );
  // The log epoch goes with a cursor, never without one.
  assert.equal(webSocketUrl("demo", 41, page, {}, "e1"), "wss://chat.example:8443/ws/rooms/demo/?after=41&epoch=e1");
  assert.equal(webSocketUrl("demo", null, page, {}, "e1"), "wss://chat.example:8443/ws/rooms/demo/");
});
