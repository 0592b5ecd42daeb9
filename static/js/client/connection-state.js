// The states of a RoomClient's connection (realtime.js), as its `state` events name them.

export const ConnectionState = Object.freeze({
  IDLE: "idle",
  CONNECTING: "connecting",
  LIVE: "live",
  RECONNECTING: "reconnecting",
  OFFLINE: "offline",
  NOT_FOUND: "not_found", // the room does not exist (close 4404); no more attempts
  FAILED: "failed", // the server refused our request (close 4400, 4403); no more attempts
  CLOSED: "closed", // close() was called
});
