// RoomClient: one room's live feed and posting, over the best transport that works (transport.js).
//
// The client keeps a cursor (lastSeq, the newest seq it has passed on), drops anything at or
// below it, and after a lost connection reconnects with exponential backoff and full jitter,
// resuming with ?after=lastSeq so the server replays exactly what was missed. All of this is
// the same on every transport.
//
// Fallback. Transports are tried in order of preference (WebSocket, SSE, long-poll). An attempt
// fails when its connection closes, or says nothing for HELLO_TIMEOUT_MS, before its hello.
// After FALLBACK_AFTER_FAILURES consecutive failed attempts of a transport that has never been
// live on this page, the next one is tried (after the last, the first again). A transport that
// has been live here gets PROVEN_FALLBACK_AFTER_FAILURES: a server restart makes every transport
// fail for a while, and that is no reason to leave the one that works. Live on a lower
// transport, the client now and then opens the ones above it in the background (after
// UPGRADE_PROBE_MS, doubling up to UPGRADE_PROBE_MAX_MS) and moves up as soon as one says hello.
// Given a single transport (the page's ?transport=), it never falls back.
//
// Events (CustomEvent, payload in .detail):
//   state     {state, transport, delayMs?, reason?}   see ConnectionState; transport is a name
//   hello     the hello frame {room, last_seq, me, presence}
//   events    {events: [...]}  new events, seq ascending, none at or below the previous cursor
//   presence  {count, guests, users: [{id, name}]}
//   reset     {last_seq, reason}  discard what you show and reload the latest history
//   notice    an error frame that answers no send of ours {code, message}

import { RoomError, sendError, sendResult } from "./answers.js";
import { Backoff } from "./backoff.js";
import { CloseCode, DEFAULT_TRANSPORTS, MAX_FRAME_BYTES } from "./transport.js";

export const ConnectionState = Object.freeze({
  IDLE: "idle",
  CONNECTING: "connecting",
  LIVE: "live",
  RECONNECTING: "reconnecting",
  OFFLINE: "offline",
  NOT_FOUND: "not_found", // the room does not exist (close 4404); no more attempts
  FAILED: "failed", // the server refused our request (close 4400); no more attempts
  CLOSED: "closed", // close() was called
});

// Below the idle timeout of common proxies and load balancers (often 60 s).
const PING_INTERVAL_MS = 25_000;
// A ping unanswered this long means the connection is dead even if no close arrived.
const PONG_TIMEOUT_MS = 10_000;
// A connection that stays up this long resets the backoff to its base delay.
const STABLE_AFTER_MS = 10_000;
// A send with no ack or error by then is reported as failed (it may still have been posted).
const SEND_TIMEOUT_MS = 15_000;
// An attempt with no hello by then has failed (a proxy that accepts the connection and stalls).
const HELLO_TIMEOUT_MS = 10_000;
// Consecutive failed attempts before trying the next transport. Two, not one, so a single
// network hiccup does not demote the WebSocket; the backoff between them is under a second.
const FALLBACK_AFTER_FAILURES = 2;
// The same for a transport that has been live on this page: more patience, see the top.
const PROVEN_FALLBACK_AFTER_FAILURES = 5;
// Live on a fallback transport, when to try the preferred ones again (doubling each time).
const UPGRADE_PROBE_MS = 60_000;
const UPGRADE_PROBE_MAX_MS = 15 * 60_000;

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

export { RoomError };

function byteLength(text) {
  return new TextEncoder().encode(text).length;
}

export class RoomClient extends EventTarget {
  /**
   * @param {string} slug the room
   * @param {{after?: number|null, transports?: object[], backoff?: Backoff}} [options]
   *   after: the newest seq the page already shows (replay starts after it); null to start live.
   *   transports: in order of preference; the client falls back down the list (one: no fallback).
   */
  constructor(slug, { after = null, transports = DEFAULT_TRANSPORTS, backoff = new Backoff(), params = {} } = {}) {
    super();
    this.slug = slug;
    this.params = params; // extra query parameters on every transport's address (an overlay's key)
    this.lastSeq = after;
    this.transports = transports;
    this.backoff = backoff;
    this.state = ConnectionState.IDLE;
    this.transport = null;
    this.me = null;

    this._candidates = []; // the supported transports, in order of preference
    this._level = 0; // index in _candidates of the transport attempts use
    this._failures = 0; // consecutive attempts of that transport that failed before hello
    this._proven = new Set(); // transports that have been live on this page
    this._everLive = false;
    this._connection = null; // {conn, transport, live} of the current attempt
    this._probe = null; // {conn, transport, timer} of a background attempt at a better transport
    this._probeDelayMs = UPGRADE_PROBE_MS;
    this._stopped = true;
    this._pending = new Map(); // nonce -> {resolve, reject, timer}
    this._nonceCounter = 0;
    this._noncePrefix = Math.random().toString(36).slice(2, 8) + "-";
    this._timers = { reconnect: null, ping: null, pong: null, stable: null, hello: null, upgrade: null };
    this._onOnline = () => this._handleOnline();
    this._onOffline = () => this._handleOffline();
  }

  /** Subscribe to one of the events listed above; returns a function that unsubscribes. */
  on(type, listener) {
    const wrapped = (event) => listener(event.detail);
    this.addEventListener(type, wrapped);
    return () => this.removeEventListener(type, wrapped);
  }

  /** Start connecting (and keep reconnecting until close()). */
  connect() {
    if (!this._stopped) return;
    this._candidates = this.transports.filter((transport) => transport.isSupported());
    if (this._candidates.length === 0) {
      this._setState(ConnectionState.FAILED, { reason: "This browser supports none of the transports." });
      return;
    }
    this._stopped = false;
    window.addEventListener("online", this._onOnline);
    window.addEventListener("offline", this._onOffline);
    this._attempt(ConnectionState.CONNECTING);
  }

  /** Disconnect for good. */
  close() {
    this._stopped = true;
    window.removeEventListener("online", this._onOnline);
    window.removeEventListener("offline", this._onOffline);
    this._clearTimers();
    this._cancelProbe();
    this._dropConnection();
    this._failPending("disconnected", "The connection was closed.");
    this._setState(ConnectionState.CLOSED);
  }

  /** Post a chat message; resolves with sendResult() of its ack, rejects with a RoomError. */
  send(text) {
    return this.sendFrame({ type: "message", text });
  }

  /**
   * Post any client frame with a `type` (e.g. {type: "danmaku", text, mode, ...}); a nonce is
   * added. Resolves and rejects like send().
   */
  sendFrame(fields) {
    const nonce = `${this._noncePrefix}${++this._nonceCounter}`;
    const frame = { ...fields, nonce };
    if (byteLength(JSON.stringify(frame)) > MAX_FRAME_BYTES) {
      return Promise.reject(new RoomError("too_long", "The message is far too long."));
    }
    if (this.state !== ConnectionState.LIVE || this._connection === null) {
      return Promise.reject(new RoomError("not_connected", "Not connected to the room."));
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this._pending.delete(nonce);
        reject(new RoomError("timeout", "The server did not answer in time."));
      }, SEND_TIMEOUT_MS);
      this._pending.set(nonce, { resolve, reject, timer });
      if (!this._connection.conn.send(frame)) {
        this._settle(nonce, null, new RoomError("not_connected", "Not connected to the room."));
      }
    });
  }

  // Connection lifecycle.

  _attempt(state) {
    this._clearTimers();
    if (this._stopped) return;
    if (navigator.onLine === false) {
      this._setState(ConnectionState.OFFLINE); // _handleOnline resumes
      return;
    }
    const attempt = { conn: null, transport: this._candidates[this._level], live: false };
    this._connection = attempt;
    this.transport = attempt.transport;
    this._setState(state);
    this._timers.hello = setTimeout(() => this._abandon("no hello in time"), HELLO_TIMEOUT_MS);
    const current = () => this._connection === attempt;
    try {
      attempt.conn = attempt.transport.open(
        { slug: this.slug, after: this.lastSeq, params: this.params },
        {
          onOpen: () => current() && this._handleOpen(),
          onFrame: (frame) => (current() ? this._handleFrame(frame) : this._handleLateFrame(frame)),
          onClose: (info) => current() && this._handleClose(info),
        },
      );
    } catch (error) {
      console.error(`RoomClient: could not open ${attempt.transport.name}`, error);
      if (current()) this._handleClose({ code: CloseCode.ABNORMAL, reason: String(error) });
    }
  }

  _handleOpen() {
    this._schedulePing();
  }

  _handleClose({ code, reason }) {
    const attempt = this._connection;
    this._connection = null;
    this._clearTimers();
    this._cancelProbe();
    if (code === CloseCode.MESSAGE_TOO_BIG) {
      this._failPending("too_long", "The message was too big for the server.");
    } else {
      this._failPending("disconnected", "The connection was lost before the server answered.");
    }
    if (this._stopped) return;
    if (code === CloseCode.ROOM_NOT_FOUND) {
      this._stopped = true;
      this._setState(ConnectionState.NOT_FOUND);
      return;
    }
    if (code === CloseCode.BAD_REQUEST || code === CloseCode.FORBIDDEN) {
      this._stopped = true;
      this._setState(ConnectionState.FAILED, { reason: reason || "This room is private." });
      return;
    }
    if (attempt && !attempt.live) this._countFailure(attempt.transport);
    if (navigator.onLine === false) {
      this._setState(ConnectionState.OFFLINE);
      return;
    }
    const delayMs = this.backoff.next();
    const state = this._everLive ? ConnectionState.RECONNECTING : ConnectionState.CONNECTING;
    this._setState(state, { delayMs });
    this._timers.reconnect = setTimeout(() => this._attempt(state), delayMs);
  }

  /** One more failed attempt of `transport`; enough of them in a row move to the next one. */
  _countFailure(transport) {
    this._failures += 1;
    const limit = this._proven.has(transport) ? PROVEN_FALLBACK_AFTER_FAILURES : FALLBACK_AFTER_FAILURES;
    if (this._candidates.length < 2 || this._failures < limit) return;
    this._level = (this._level + 1) % this._candidates.length;
    this._failures = 0;
    const next = this._candidates[this._level].name;
    console.info(`RoomClient: ${transport.name} failed ${limit} times in a row; trying ${next}`);
  }

  _handleOnline() {
    if (this._stopped) return;
    if (this._connection === null) {
      this.backoff.reset();
      this._attempt(this._everLive ? ConnectionState.RECONNECTING : ConnectionState.CONNECTING);
    }
  }

  _handleOffline() {
    if (this._stopped) return;
    if (this._connection === null) {
      this._clearTimers();
      this._setState(ConnectionState.OFFLINE);
    } else {
      this._ping(); // the connection may still work (e.g. a local server); the pong decides
    }
  }

  /** Abandon the current connection as lost, as if it had closed by itself. */
  _abandon(reason) {
    if (this._connection === null) return;
    const { conn } = this._connection;
    if (conn) conn.close(); // closing it ourselves silences its own close report
    this._handleClose({ code: CloseCode.ABNORMAL, reason });
  }

  _dropConnection() {
    const attempt = this._connection;
    this._connection = null;
    if (attempt && attempt.conn) attempt.conn.close();
  }

  // Moving up to a preferred transport while live on a fallback.

  _scheduleUpgrade() {
    clearTimeout(this._timers.upgrade);
    this._timers.upgrade = null;
    if (this._level === 0 || this._probe !== null) return;
    const delayMs = Math.floor(this._probeDelayMs * (0.5 + 0.5 * Math.random()));
    this._timers.upgrade = setTimeout(() => this._probeUpgrade(0), delayMs);
  }

  /** Open the transport at `level` beside the live one; adopt it if it says hello. */
  _probeUpgrade(level) {
    this._timers.upgrade = null;
    if (this._stopped || this._connection === null || level >= this._level) return;
    const probe = { conn: null, transport: this._candidates[level], live: false, timer: null };
    this._probe = probe;
    const probing = () => this._probe === probe;
    const current = () => this._connection === probe;
    const fail = () => {
      if (!probing()) return;
      this._cancelProbe();
      if (level + 1 < this._level) {
        this._probeUpgrade(level + 1);
      } else {
        this._probeDelayMs = Math.min(this._probeDelayMs * 2, UPGRADE_PROBE_MAX_MS);
        this._scheduleUpgrade();
      }
    };
    probe.timer = setTimeout(fail, HELLO_TIMEOUT_MS);
    try {
      probe.conn = probe.transport.open(
        { slug: this.slug, after: this.lastSeq, params: this.params },
        {
          onOpen: () => {},
          onFrame: (frame) => {
            if (current()) this._handleFrame(frame);
            else if (probing() && frame.type === "hello") this._adopt(probe, frame);
            else this._handleLateFrame(frame);
          },
          onClose: (info) => (current() ? this._handleClose(info) : fail()),
        },
      );
    } catch {
      fail();
    }
  }

  /** Make a probe that said hello the connection, and close the one it replaces. */
  _adopt(probe, hello) {
    clearTimeout(probe.timer);
    this._probe = null;
    const replaced = this._connection;
    this._connection = probe;
    if (replaced && replaced.conn) replaced.conn.close();
    this._clearTimers();
    this._level = this._candidates.indexOf(probe.transport);
    this._failures = 0;
    this._probeDelayMs = UPGRADE_PROBE_MS;
    this.transport = probe.transport;
    this._handleOpen();
    this._handleFrame(hello);
  }

  _cancelProbe() {
    const probe = this._probe;
    if (probe === null) return;
    this._probe = null;
    clearTimeout(probe.timer);
    if (probe.conn) probe.conn.close();
  }

  // Frames.

  _handleFrame(frame) {
    clearTimeout(this._timers.pong);
    this._timers.pong = null;
    switch (frame.type) {
      case "hello":
        return this._onHello(frame);
      case "events":
        return this._onEvents(Array.isArray(frame.events) ? frame.events : []);
      case "presence":
        return this._emit("presence", frame);
      case "reset":
        this.lastSeq = frame.last_seq;
        return this._emit("reset", { last_seq: frame.last_seq, reason: frame.reason });
      case "ack":
        return this._settle(frame.nonce, sendResult(frame), null);
      case "error":
        return this._onError(frame);
      default:
        return undefined; // pong, and frame types added later
    }
  }

  /** A frame from a connection that is no longer ours: only answers to our posts still count. */
  _handleLateFrame(frame) {
    if (!this._pending.has(frame.nonce)) return;
    if (frame.type === "ack") this._settle(frame.nonce, sendResult(frame), null);
    else if (frame.type === "error") this._onError(frame);
  }

  _onHello(frame) {
    if (this._connection === null || this._connection.live) return;
    this._connection.live = true;
    this._proven.add(this._connection.transport);
    this._everLive = true;
    this._failures = 0;
    clearTimeout(this._timers.hello);
    this._timers.hello = null;
    if (this.lastSeq === null || this.lastSeq === undefined) this.lastSeq = frame.last_seq;
    if ("me" in frame) this.me = frame.me ?? null;
    this._setState(ConnectionState.LIVE);
    this._timers.stable = setTimeout(() => this.backoff.reset(), STABLE_AFTER_MS);
    this._scheduleUpgrade();
    this._emit("hello", frame);
    if (frame.presence) this._emit("presence", frame.presence);
  }

  _onEvents(events) {
    const fresh = [];
    for (const event of events) {
      if (typeof event?.seq !== "number") continue;
      if (this.lastSeq !== null && event.seq <= this.lastSeq) continue;
      this.lastSeq = event.seq;
      fresh.push(event);
    }
    if (fresh.length) this._emit("events", { events: fresh });
  }

  _onError(frame) {
    const error = sendError(frame);
    if (frame.nonce !== null && frame.nonce !== undefined && this._pending.has(frame.nonce)) {
      this._settle(frame.nonce, null, error);
    } else {
      this._emit("notice", error);
    }
  }

  _settle(nonce, value, error) {
    const pending = this._pending.get(nonce);
    if (!pending) return;
    this._pending.delete(nonce);
    clearTimeout(pending.timer);
    if (error) pending.reject(error);
    else pending.resolve(value);
  }

  _failPending(code, message) {
    for (const nonce of [...this._pending.keys()]) {
      this._settle(nonce, null, new RoomError(code, message));
    }
  }

  // Keep-alive.

  _schedulePing() {
    clearTimeout(this._timers.ping);
    this._timers.ping = setTimeout(() => {
      this._ping();
      this._schedulePing();
    }, PING_INTERVAL_MS);
  }

  _ping() {
    if (this._connection === null || this._connection.conn === null) return;
    if (!this._connection.conn.send({ type: "ping" })) return;
    if (this._timers.pong === null) {
      this._timers.pong = setTimeout(() => this._abandon("no answer to ping"), PONG_TIMEOUT_MS);
    }
  }

  // Helpers.

  _clearTimers() {
    for (const name of Object.keys(this._timers)) {
      clearTimeout(this._timers[name]);
      this._timers[name] = null;
    }
  }

  _setState(state, extra = {}) {
    this.state = state;
    this._emit("state", { state, transport: this.transport ? this.transport.name : null, ...extra });
  }

  _emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
