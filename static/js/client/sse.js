// The SSE transport: receives over EventSource (GET /rooms/<slug>/events), posts over HTTP.
//
// The stream's named events become the WebSocket's frames: `hello`, `presence` and `reset`
// carry the frame itself; every room event (`event: <kind>`, `id: <seq>`) is handed on as an
// {type: "events"} frame of one event.
//
// EventSource reconnects by itself, with a fixed delay and the Last-Event-ID of the last event
// it saw. We never let it: on any error the source is closed and the loss reported, and the
// client reopens with ?after=<its cursor> after its own backoff with jitter. That also keeps
// a stale Last-Event-ID (the one from before a `reset`) from ever being sent.

import { gettext } from "../ui/i18n.js";
import { canPost, postFrame } from "./post.js";
import { CloseCode, roomPath } from "./protocol.js";

// Event names of room events (the `kind`s of docs/PROTOCOL.md). EventSource only dispatches
// names someone listens for; a kind added later must be listed here.
export const ROOM_EVENT_KINDS = Object.freeze([
  "message",
  "danmaku",
  "delete",
  "clear",
  "ban",
  "unban",
  "settings",
  "system",
  "review",
  "pin",
]);

function parse(data) {
  try {
    const value = JSON.parse(data);
    return value && typeof value === "object" ? value : null;
  } catch {
    return null;
  }
}

export const sseTransport = Object.freeze({
  name: "SSE",

  isSupported() {
    return typeof EventSource === "function" && typeof fetch === "function";
  },

  open({ slug, after, epoch = null, params = {} }, { onOpen, onFrame, onClose }) {
    const resume = after === null || after === undefined ? {} : { after, epoch };
    const source = new EventSource(roomPath(slug, "events", { ...params, ...resume }));
    let closed = false;
    const finish = (code, reason) => {
      if (closed) return;
      closed = true;
      source.close();
      onClose({ code, reason });
    };
    const forward = (type) => (message) => {
      if (closed) return;
      const frame = parse(message.data);
      if (frame) onFrame({ ...frame, type });
    };

    source.addEventListener("open", () => !closed && onOpen());
    source.addEventListener("hello", forward("hello"));
    source.addEventListener("presence", forward("presence"));
    source.addEventListener("reset", forward("reset"));
    // The server ends the stream of someone who may no longer read a private room.
    source.addEventListener("refused", (message) => {
      const frame = parse(message.data);
      finish(CloseCode.FORBIDDEN, (frame && frame.message) || gettext("The server refused the connection."));
    });
    for (const kind of ROOM_EVENT_KINDS) {
      source.addEventListener(kind, (message) => {
        if (closed) return;
        const event = parse(message.data);
        if (event && typeof event.seq === "number") onFrame({ type: "events", events: [event] });
      });
    }
    // Fired when the stream fails to open (HTTP error, wrong content type, refused) or drops.
    source.addEventListener("error", () => finish(CloseCode.ABNORMAL, "event stream failed"));

    return {
      send(frame) {
        if (closed || !canPost(frame)) return false;
        // The answer is handed on even if the stream closed meanwhile: the post stands on its own.
        postFrame(slug, frame).then(onFrame);
        return true;
      },
      close() {
        if (closed) return;
        closed = true; // a close we asked for is not reported as a loss
        source.close();
      },
    };
  },
});
