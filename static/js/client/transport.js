// Transports carry protocol frames (docs/PROTOCOL.md) for one connection attempt.
//
// A transport is an object { name, isSupported(), open(target, handlers) } where
//   target   = { slug, after }  (after: the last seq the client has, or null to start live)
//   handlers = { onOpen(), onFrame(frame), onClose({code, reason}) }
// and open() returns a connection { send(frame) -> boolean, close() }.
//
// Every transport hands the client the WebSocket's frame shapes (hello, events, presence,
// reset, ack, error, pong), so the client never knows which one it is using. The SSE and
// long-poll transports (sse.js, longpoll.js) turn their events into {type: "events"} frames
// and answer sends made over HTTP POST with ack/error frames carrying the same nonce; they
// cannot send pings (send returns false), so liveness is theirs to detect.

import { longPollTransport } from "./longpoll.js";
import { CloseCode, MAX_FRAME_BYTES } from "./protocol.js";
import { sseTransport } from "./sse.js";

export { CloseCode, MAX_FRAME_BYTES, longPollTransport, sseTransport };

/** ws(s)://host/ws/rooms/<slug>/[?after=<seq>&epoch=<epoch>&...params] for the page's own origin. */
export function webSocketUrl(slug, after, location = window.location, params = {}, epoch = null) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== null && value !== undefined) query.set(name, String(value));
  }
  if (after !== null && after !== undefined) {
    query.set("after", String(after));
    if (epoch !== null && epoch !== undefined) query.set("epoch", String(epoch));
  }
  const search = query.toString();
  return `${scheme}//${location.host}/ws/rooms/${encodeURIComponent(slug)}/${search ? `?${search}` : ""}`;
}

export const webSocketTransport = Object.freeze({
  name: "WebSocket",

  isSupported() {
    return typeof WebSocket === "function";
  },

  open({ slug, after, epoch = null, params = {} }, { onOpen, onFrame, onClose }) {
    const socket = new WebSocket(webSocketUrl(slug, after, window.location, params, epoch));
    let closed = false;
    const finish = (code, reason) => {
      if (closed) return;
      closed = true;
      onClose({ code, reason });
    };

    socket.addEventListener("open", () => onOpen());
    socket.addEventListener("message", (message) => {
      if (typeof message.data !== "string") return;
      let frame;
      try {
        frame = JSON.parse(message.data);
      } catch {
        return; // not ours to interpret; the server only sends JSON objects
      }
      if (frame && typeof frame === "object") onFrame(frame);
    });
    socket.addEventListener("close", (event) => finish(event.code, event.reason));

    return {
      send(frame) {
        if (closed || socket.readyState !== WebSocket.OPEN) return false;
        socket.send(JSON.stringify(frame));
        return true;
      },
      close() {
        if (closed) return;
        closed = true; // a close we asked for is not reported as a loss
        socket.close(CloseCode.NORMAL);
      },
    };
  },
});

// In order of preference: the client falls back down this list (realtime.js).
export const DEFAULT_TRANSPORTS = Object.freeze([webSocketTransport, sseTransport, longPollTransport]);

// Names for the page's ?transport= parameter, which forces one transport (no fallback).
const TRANSPORTS_BY_PARAM = Object.freeze({
  ws: webSocketTransport,
  sse: sseTransport,
  poll: longPollTransport,
});

/** The transports to use for a ?transport= value: the one named, or all in order when empty or unknown. */
export function transportsFor(param) {
  if (!param) return DEFAULT_TRANSPORTS;
  const forced = Object.hasOwn(TRANSPORTS_BY_PARAM, param) ? TRANSPORTS_BY_PARAM[param] : null;
  if (forced === null) {
    console.warn(`unknown transport ${JSON.stringify(param)}; expected one of ws, sse, poll`);
    return DEFAULT_TRANSPORTS;
  }
  return Object.freeze([forced]);
}
