// RoomClient: one room's live feed and posting, over the best transport that works (transport.js).
//
// The client keeps a cursor (lastSeq, the newest seq it has passed on), drops anything at or
// below it, and after a lost connection reconnects with exponential backoff and full jitter,
// resuming with ?after=lastSeq so the server replays exactly what was missed. All of this is
// the same on every transport. Which transport an attempt uses, when to fall back and when to
// try moving back up is fallback.js's; answers to sends are answers.js's.
//
// Events (CustomEvent, payload in .detail):
//   state     {state, transport, delayMs?, reason?}   see ConnectionState; transport is a name
//   hello     the hello frame {room, last_seq, me, presence}
//   events    {events: [...]}  new events, seq ascending, none at or below the previous cursor
//   presence  {count, guests, users: [{id, name}]}
//   reset     {last_seq, reason}  discard what you show and reload the latest history
//   notice    an error frame that answers no send of ours {code, message}
//   call      a frame of the room's call (call.roster, call.signal, call.ended)

import { gettext } from "../ui/i18n.js";
import { PendingSends, RoomError, sendError } from "./answers.js";
import { Backoff } from "./backoff.js";
import { ConnectionState } from "./connection-state.js";
import { TransportLadder } from "./fallback.js";
import { CloseCode, DEFAULT_TRANSPORTS, MAX_FRAME_BYTES } from "./transport.js";

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

function byteLength(text) {
  return new TextEncoder().encode(text).length;
}

export class RoomClient extends EventTarget {
  /**
   * @param {string} slug the room
   * @param {{after?: number|null, epoch?: string|null, transports?: object[], backoff?: Backoff}} [options]
   *   after: the newest seq the page already shows (replay starts after it); null to start live.
   *   epoch: the log epoch `after` counts in (history's `epoch`): a restored log resets it.
   *   transports: in order of preference; the client falls back down the list (one: no fallback).
   */
  constructor(
    slug,
    { after = null, epoch = null, transports = DEFAULT_TRANSPORTS, backoff = new Backoff(), params = {} } = {},
  ) {
    super();
    this.slug = slug;
    this.params = params; // extra query parameters on every transport's address (an overlay's key)
    this.lastSeq = after;
    // The log epoch lastSeq counts in: sent back on every resume, so a server whose log is
    // another (a restored database) answers with a reset instead of a wrong replay.
    this.epoch = epoch;
    this.transports = transports;
    this.backoff = backoff;
    this.state = ConnectionState.IDLE;
    this.transport = null;
    this.me = null;

    this._ladder = new TransportLadder([]); // the supported transports, from connect()
    this._everLive = false;
    this._connection = null; // {conn, transport, live} of the current attempt
    this._probe = null; // {conn, transport, timer} of a background attempt at a better transport
    this._stopped = true;
    this._sends = new PendingSends(SEND_TIMEOUT_MS);
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
    this._ladder = new TransportLadder(this.transports.filter((transport) => transport.isSupported()));
    if (this._ladder.transports.length === 0) {
      this._setState(ConnectionState.FAILED, { reason: gettext("This browser supports none of the transports.") });
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
    this._sends.failAll("disconnected", gettext("The connection was closed."));
    this._setState(ConnectionState.CLOSED);
  }

  /** Post a chat message; resolves with sendResult() of its ack (answers.js), rejects with a RoomError. */
  send(text) {
    return this.sendFrame({ type: "message", text });
  }

  /**
   * Post any client frame with a `type` (e.g. {type: "danmaku", text, mode, ...}); a nonce is
   * added. Resolves and rejects like send().
   */
  sendFrame(fields) {
    const nonce = this._sends.nextNonce();
    const frame = { ...fields, nonce };
    if (byteLength(JSON.stringify(frame)) > MAX_FRAME_BYTES) {
      return Promise.reject(new RoomError("too_long", gettext("The message is far too long.")));
    }
    if (this.state !== ConnectionState.LIVE || this._connection === null) {
      return Promise.reject(new RoomError("not_connected", gettext("Not connected to the room.")));
    }
    const answer = this._sends.wait(nonce);
    if (!this._connection.conn.send(frame)) {
      this._sends.fail(nonce, new RoomError("not_connected", gettext("Not connected to the room.")));
    }
    return answer;
  }

  // Connection lifecycle.

  _attempt(state) {
    this._clearTimers();
    if (this._stopped) return;
    if (navigator.onLine === false) {
      this._setState(ConnectionState.OFFLINE); // _handleOnline resumes
      return;
    }
    const attempt = { conn: null, transport: this._ladder.current, live: false };
    this._connection = attempt;
    this.transport = attempt.transport;
    this._setState(state);
    this._timers.hello = setTimeout(() => this._abandon("no hello in time"), HELLO_TIMEOUT_MS);
    const current = () => this._connection === attempt;
    try {
      attempt.conn = attempt.transport.open(
        { slug: this.slug, after: this.lastSeq, epoch: this.epoch, params: this.params },
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
      this._sends.failAll("too_long", gettext("The message was too big for the server."));
    } else {
      this._sends.failAll("disconnected", gettext("The connection was lost before the server answered."));
    }
    if (this._stopped) return;
    if (code === CloseCode.ROOM_NOT_FOUND) {
      this._stopped = true;
      this._setState(ConnectionState.NOT_FOUND);
      return;
    }
    if (code === CloseCode.BAD_REQUEST || code === CloseCode.FORBIDDEN) {
      this._stopped = true;
      this._setState(ConnectionState.FAILED, { reason: reason || gettext("This room is private.") });
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
    const next = this._ladder.failed(transport);
    if (next) console.info(`RoomClient: ${transport.name} failed too often in a row; trying ${next.name}`);
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
    const delayMs = this._ladder.probeDelay();
    if (delayMs === null || this._probe !== null) return;
    this._timers.upgrade = setTimeout(() => this._probeUpgrade(0), delayMs);
  }

  /** Open the transport at `level` beside the live one; adopt it if it says hello. */
  _probeUpgrade(level) {
    this._timers.upgrade = null;
    if (this._stopped || this._connection === null || level >= this._ladder.level) return;
    const probe = { conn: null, transport: this._ladder.transports[level], live: false, timer: null };
    this._probe = probe;
    const probing = () => this._probe === probe;
    const current = () => this._connection === probe;
    const fail = () => {
      if (!probing()) return;
      this._cancelProbe();
      if (level + 1 < this._ladder.level) {
        this._probeUpgrade(level + 1);
      } else {
        this._ladder.probesFailed();
        this._scheduleUpgrade();
      }
    };
    probe.timer = setTimeout(fail, HELLO_TIMEOUT_MS);
    try {
      probe.conn = probe.transport.open(
        { slug: this.slug, after: this.lastSeq, epoch: this.epoch, params: this.params },
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
    this._ladder.adopt(probe.transport);
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
        if (typeof frame.epoch === "string") this.epoch = frame.epoch;
        return this._emit("reset", { last_seq: frame.last_seq, reason: frame.reason });
      case "ack":
        return this._sends.answer(frame);
      case "error":
        if (!this._sends.answer(frame)) this._emit("notice", sendError(frame));
        return undefined;
      default:
        // The room's call (docs/PROTOCOL.md "Calls"): call.roster, call.signal, call.ended.
        if (typeof frame.type === "string" && frame.type.startsWith("call.")) this._emit("call", frame);
        return undefined; // pong, and frame types added later
    }
  }

  /** A frame from a connection that is no longer ours: only answers to our posts still count. */
  _handleLateFrame(frame) {
    this._sends.answer(frame);
  }

  _onHello(frame) {
    if (this._connection === null || this._connection.live) return;
    this._connection.live = true;
    this._ladder.live(this._connection.transport);
    this._everLive = true;
    clearTimeout(this._timers.hello);
    this._timers.hello = null;
    if (this.lastSeq === null || this.lastSeq === undefined) this.lastSeq = frame.last_seq;
    // Ours is kept until a reset replaces it: a hello naming another epoch is followed by one.
    if ((this.epoch === null || this.epoch === undefined) && typeof frame.epoch === "string") this.epoch = frame.epoch;
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
