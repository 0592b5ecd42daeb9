// A page's connection label: what RoomClient's `state` events say, for people and for tests.

import { ConnectionState } from "../client/connection-state.js";
import { gettext, interpolate } from "./i18n.js";

// Looked up when shown, in the page's language (ui/i18n.js).
const STATE_LABELS = {
  [ConnectionState.LIVE]: () => gettext("Connected"),
  [ConnectionState.IDLE]: () => gettext("Connecting…"),
  [ConnectionState.CONNECTING]: () => gettext("Connecting…"),
  [ConnectionState.RECONNECTING]: () => gettext("Reconnecting…"),
  [ConnectionState.OFFLINE]: () => gettext("Offline"),
  [ConnectionState.NOT_FOUND]: () => gettext("Room not found"),
  [ConnectionState.FAILED]: () => gettext("Disconnected"),
  [ConnectionState.CLOSED]: () => gettext("Disconnected"),
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
  label.textContent = STATE_LABELS[state]?.() ?? state;
  if (state === ConnectionState.LIVE) {
    label.title = interpolate(gettext("Connected over %(transport)s"), { transport });
  } else if (delayMs !== undefined) {
    const seconds = (delayMs / 1000).toFixed(1);
    label.title = interpolate(gettext("%(transport)s failed; next attempt in %(seconds)s s"), { transport, seconds });
  } else if (state === ConnectionState.CONNECTING || state === ConnectionState.RECONNECTING) {
    label.title = interpolate(gettext("Trying %(transport)s"), { transport });
  } else {
    label.title = reason ?? "";
  }
}
