// A page's connection label: what RoomClient's `state` events say, for people and for tests.

import { ConnectionState } from "../client/connection-state.js";

const STATE_LABELS = {
  [ConnectionState.IDLE]: "Connecting…",
  [ConnectionState.CONNECTING]: "Connecting…",
  [ConnectionState.RECONNECTING]: "Reconnecting…",
  [ConnectionState.OFFLINE]: "Offline",
  [ConnectionState.NOT_FOUND]: "Room not found",
  [ConnectionState.FAILED]: "Disconnected",
  [ConnectionState.CLOSED]: "Disconnected",
};

/**
 * Show a RoomClient `state` event in a page's status element: its text ("Live (SSE)",
 * "Reconnecting…"), `data-state` and `data-transport` for styles and tests, and a tooltip
 * with the reason or the next attempt.
 */
export function showConnectionState(label, { state, transport, delayMs, reason }) {
  label.dataset.state = state;
  label.dataset.transport = transport ?? "";
  label.textContent = state === ConnectionState.LIVE ? `Live (${transport})` : (STATE_LABELS[state] ?? state);
  if (delayMs !== undefined) {
    label.title = `${transport} failed; next attempt in ${(delayMs / 1000).toFixed(1)} s`;
  } else if (state === ConnectionState.CONNECTING || state === ConnectionState.RECONNECTING) {
    label.title = `Trying ${transport}`;
  } else {
    label.title = reason ?? "";
  }
}
