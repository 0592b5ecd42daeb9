// Constants and addresses of the wire protocol (docs/PROTOCOL.md) shared by every transport.

export const CloseCode = Object.freeze({
  NORMAL: 1000,
  ABNORMAL: 1006, // no close frame: network loss, server gone, handshake refused
  MESSAGE_TOO_BIG: 1009, // daphne refuses frames over 64 KiB
  BAD_REQUEST: 4400,
  FORBIDDEN: 4403, // a private room this client may not read
  ROOM_NOT_FOUND: 4404,
  TOO_MANY_CONNECTIONS: 4429, // retried after the backoff
  SERVER_BUSY: 4503, // the server holds all the connections it may: retried after the backoff
});

// Matches the server's limit (config/serve.py WEBSOCKET_MAX_BYTES).
export const MAX_FRAME_BYTES = 64 * 1024;

/** /rooms/<slug>/<endpoint>[?params] on the page's own origin; null and undefined params are left out. */
export function roomPath(slug, endpoint, params = {}) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== null && value !== undefined) query.set(name, String(value));
  }
  const search = query.toString();
  return `/rooms/${encodeURIComponent(slug)}/${endpoint}${search ? `?${search}` : ""}`;
}
