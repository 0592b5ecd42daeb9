// Transports the test drives by hand, for RoomClient's unit tests: every open() is an attempt the
// test can greet (hello), feed frames, answer, or drop, and whose sends it can read.

import { CloseCode } from "../../../static/js/client/protocol.js";

export class FakeAttempt {
  constructor(transport, target, handlers) {
    this.transport = transport;
    this.target = target;
    this.handlers = handlers;
    this.sent = [];
    this.closed = false; // closed by the client
    this.acceptsSends = true;
  }

  /** The server's hello: the attempt is live. */
  hello(lastSeq, extra = {}) {
    this.handlers.onOpen();
    this.handlers.onFrame({ type: "hello", room: { slug: this.target.slug }, last_seq: lastSeq, ...extra });
  }

  frame(frame) {
    this.handlers.onFrame(frame);
  }

  events(...seqs) {
    this.frame({ type: "events", events: seqs.map((seq) => ({ seq, kind: "message", text: `#${seq}` })) });
  }

  /** The connection is lost (or refused) with `code`. */
  drop(code = CloseCode.ABNORMAL, reason = "lost") {
    this.handlers.onClose({ code, reason });
  }

  /** The frames of one type the client sent on this attempt. */
  sentOf(type) {
    return this.sent.filter((frame) => frame.type === type);
  }
}

/**
 * A transport named `name`; every attempt also goes on `log`, so a test sees the order of all.
 * Like SSE and long-poll, one named otherwise than WebSocket cannot send pings.
 */
export function fakeTransport(name, { supported = true, log = [], pings = name === "WebSocket" } = {}) {
  const transport = {
    name,
    attempts: [],
    isSupported: () => supported,
    open(target, handlers) {
      const attempt = new FakeAttempt(transport, target, handlers);
      transport.attempts.push(attempt);
      log.push(attempt);
      return {
        send(frame) {
          if (attempt.closed || !attempt.acceptsSends || (frame.type === "ping" && !pings)) return false;
          attempt.sent.push(frame);
          return true;
        },
        close() {
          attempt.closed = true;
        },
      };
    },
    get last() {
      return transport.attempts.at(-1);
    },
  };
  return transport;
}
