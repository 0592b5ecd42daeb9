// The server's answers to a send (docs/PROTOCOL.md): an ack or an error frame carrying the
// send's nonce, the same over WebSocket and over HTTP POST (post.js).

/** A refused or failed send: `code` is stable (login_required, empty, too_long, ...). */
export class RoomError extends Error {
  constructor(code, message, extra = {}) {
    super(message || code);
    this.name = "RoomError";
    this.code = code;
    Object.assign(this, extra);
  }
}

/**
 * What a send resolves with, from its ack: {seq, id}, or for a message a moderator reviews
 * first (it has no seq yet) {seq: null, id: null, held: true, message}.
 */
export function sendResult(ack) {
  if (ack.held) return { seq: null, id: null, held: true, message: ack.message };
  return { seq: ack.seq, id: ack.id };
}

/** The RoomError of an error frame; its other fields (retry_after, limit, until) come along. */
export function sendError(frame) {
  const { code, message, nonce: _nonce, type: _type, ...extra } = frame;
  return new RoomError(code || "error", message, extra);
}
