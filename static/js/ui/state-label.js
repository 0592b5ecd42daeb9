// A page's connection label: what RoomClient's `state` events say, for people and for tests.

import { ConnectionState } from "../client/connection-state.js";

const STATE_LABELS = {
  [ConnectionState.LIVE]: "Connected",
  [ConnectionState.IDLE]: "Connecting…",
  [ConnectionState.CONNECTING]: "Connecting…",
  [ConnectionState.RECONNECTING]: "Reconnecting…",
  [ConnectionState.OFFLINE]: "Offline",
  [ConnectionState.NOT_FOUND]: "Room not found",
  [ConnectionState.FAILED]: "Disconnected",
  [ConnectionState.CLOSED]: "Disconnected",
};

/**
 * Show a RoomClient `state` event in a page's status element: its text ("Connected",
 * "Reconnecting…"), `data-state` and `data-transport` for styles and tests, and a tooltip
 * with the transport, the reason or the next attempt. People read whether they are
 * connected; how is for the curious (the tooltip) and for support.
 */
export function showConnectionState(label, { state, transport, delayMs, reason }) {
  label.dataset.state = state;
  label.dataset.transport = transport ?? "";
  label.textContent = STATE_LABELS[state] ?? state;
  if (state === ConnectionState.LIVE) {
    label.title = `Connected over ${transport}`;
  } else if (delayMs !== undefined) {
    label.title = `${transport} failed; next attempt in ${(delayMs / 1000).toFixed(1)} s`;
  } else if (state === ConnectionState.CONNECTING || state === ConnectionState.RECONNECTING) {
    label.title = `Trying ${transport}`;
  } else {
    label.title = reason ?? "";
  }
}
