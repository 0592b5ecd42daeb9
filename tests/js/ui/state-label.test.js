import assert from "node:assert/strict";
import { test } from "node:test";

import { ConnectionState } from "../../../static/js/client/connection-state.js";
import { showConnectionState } from "../../../static/js/ui/state-label.js";

function label() {
  return { dataset: {}, textContent: "", title: "" };
}

test("live says connected, and the tooltip names the transport", () => {
  const shown = label();
  showConnectionState(shown, { state: ConnectionState.LIVE, transport: "SSE" });
  assert.equal(shown.textContent, "Connected");
  assert.deepEqual(shown.dataset, { state: "live", transport: "SSE" });
  assert.equal(shown.title, "Connected over SSE");
});

test("a failed attempt says when the next one is", () => {
  const shown = label();
  showConnectionState(shown, { state: ConnectionState.RECONNECTING, transport: "WebSocket", delayMs: 1250 });
  assert.equal(shown.textContent, "Reconnecting…");
  assert.equal(shown.title, "WebSocket failed; next attempt in 1.3 s");
  showConnectionState(shown, { state: ConnectionState.CONNECTING, transport: "polling" });
  assert.equal(shown.textContent, "Connecting…");
  assert.equal(shown.title, "Trying polling");
});

test("the end states read as such, with the server's reason", () => {
  const shown = label();
  showConnectionState(shown, { state: ConnectionState.NOT_FOUND, transport: "WebSocket" });
  assert.equal(shown.textContent, "Room not found");
  showConnectionState(shown, { state: ConnectionState.FAILED, transport: null, reason: "This room is private." });
  assert.equal(shown.textContent, "Disconnected");
  assert.equal(shown.title, "This room is private.");
  assert.equal(shown.dataset.transport, "");
  showConnectionState(shown, { state: ConnectionState.OFFLINE, transport: "SSE" });
  assert.equal(shown.textContent, "Offline");
});
