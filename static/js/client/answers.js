// The server's answers to a send (docs/PROTOCOL.md): an ack or an error frame carrying the
// send's nonce, the same over WebSocket and over HTTP POST (post.js).

import { gettext } from "../ui/i18n.js";

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
 * first (it has no seq yet) {seq: null, id: null, held: true, held_id, message}; in a room with a
 * chat delay also {delayed: true, release_at} (when it appears unless a moderator removes it).
 */
export function sendResult(ack) {
  if (ack.held) {
    const result = { seq: null, id: null, held: true, held_id: ack.held_id ?? null, message: ack.message };
    if (ack.delayed) Object.assign(result, { delayed: true, release_at: ack.release_at ?? null });
    return result;
  }
  // Shown to its author only (docs/PROTOCOL.md "Hidden users"): not in the log, no seq.
  if (ack.private) return { seq: null, id: null, private: true, held_id: ack.held_id ?? null };
  return { seq: ack.seq, id: ack.id }; // a call.join's ack: no seq, the participant id
}

/** The RoomError of an error frame; its other fields (retry_after, limit, until) come along. */
export function sendError(frame) {
  const { code, message, nonce: _nonce, type: _type, ...extra } = frame;
  return new RoomError(code || "error", message, extra);
}

/** Sends waiting for their answer, by nonce; each fails by itself after `timeoutMs`. */
export class PendingSends {
  constructor(timeoutMs) {
    this.timeoutMs = timeoutMs;
    this.waiting = new Map(); // nonce -> {resolve, reject, timer}
    this.counter = 0;
    this.prefix = Math.random().toString(36).slice(2, 8) + "-"; // another tab's nonces differ
  }

  get size() {
    return this.waiting.size;
  }

  /** A nonce no other send of this page has used. */
  nextNonce() {
    this.counter += 1;
    return `${this.prefix}${this.counter}`;
  }

  /** The answer to the send with `nonce`: resolves with sendResult(), rejects with a RoomError. */
  wait(nonce) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(nonce);
        reject(new RoomError("timeout", gettext("The server did not answer in time.")));
      }, this.timeoutMs);
      this.waiting.set(nonce, { resolve, reject, timer });
    });
  }

  /**
   * Settle the send that `frame` (an ack or an error frame) answers, from whichever connection
   * it came; false when it answers none of ours.
   */
  answer(frame) {
    const pending = this.waiting.get(frame?.nonce);
    if (!pending || (frame.type !== "ack" && frame.type !== "error")) return false;
    this._forget(frame.nonce, pending);
    if (frame.type === "ack") pending.resolve(sendResult(frame));
    else pending.reject(sendError(frame));
    return true;
  }

  /** Fail the send with `nonce` (it could not go out). */
  fail(nonce, error) {
    const pending = this.waiting.get(nonce);
    if (!pending) return;
    this._forget(nonce, pending);
    pending.reject(error);
  }

  /** Fail every send still waiting (the connection that carried them is gone). */
  failAll(code, message) {
    for (const nonce of [...this.waiting.keys()]) this.fail(nonce, new RoomError(code, message));
  }

  _forget(nonce, pending) {
    this.waiting.delete(nonce);
    clearTimeout(pending.timer);
  }
}
