// The long-poll transport: GET /rooms/<slug>/poll in a loop, posts over HTTP.
//
// A first request without `after` answers at once (the room's newest seq and who is here) and
// stands in for the WebSocket's hello. Then each request carries the cursor: the server answers
// as soon as anything newer exists, or after `timeout` seconds with nothing, and its `last_seq`
// is the cursor of the next request. Answers become events, presence and reset frames.

import { gettext } from "../ui/i18n.js";
import { canPost, postFrame } from "./post.js";
import { CloseCode, roomPath } from "./protocol.js";

// How long the server may hold a request (it allows 55 s); under common proxies' idle timeouts.
export const POLL_TIMEOUT_S = 25;
// A request unanswered this long is abandoned (a dead connection, a stalled proxy).
const POLL_ABORT_MS = 35_000;
// The first request answers at once; this is only a guard against a stalled network.
const GREETING_ABORT_MS = 10_000;
// An empty answer that came back sooner than this is followed by a pause, so a server that
// stops holding requests is not hammered in a tight loop.
const MIN_EMPTY_POLL_MS = 1_000;

class PollError extends Error {
  constructor(code, reason) {
    super(reason);
    this.code = code;
  }
}

function codeForStatus(status) {
  if (status === 404) return CloseCode.ROOM_NOT_FOUND;
  if (status === 403) return CloseCode.FORBIDDEN;
  if (status === 400) return CloseCode.BAD_REQUEST;
  return CloseCode.ABNORMAL;
}

export const longPollTransport = Object.freeze({
  name: "polling",

  isSupported() {
    return typeof fetch === "function" && typeof AbortController === "function";
  },

  open({ slug, after, epoch: knownEpoch = null, params: extra = {} }, { onOpen, onFrame, onClose }) {
    let closed = false;
    let controller = null;
    let cursor = after;
    let epoch = knownEpoch; // the log epoch the cursor counts in, sent with it
    let presenceShown = null; // JSON of the presence last handed on

    const finish = (code, reason) => {
      if (closed) return;
      closed = true;
      onClose({ code, reason });
    };

    const get = async (params, abortMs) => {
      controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), abortMs);
      try {
        const response = await fetch(roomPath(slug, "poll", { ...extra, ...params }), {
          headers: { Accept: "application/json" },
          credentials: "same-origin",
          cache: "no-store",
          signal: controller.signal,
        });
        let answer = null;
        try {
          answer = await response.json();
        } catch {
          answer = null;
        }
        if (!response.ok) {
          // The server's reason, in the page's language (the server answers in it), else the status.
          const reason = answer && typeof answer.message === "string" ? answer.message : `HTTP ${response.status}`;
          throw new PollError(codeForStatus(response.status), reason);
        }
        if (answer === null || typeof answer !== "object" || typeof answer.last_seq !== "number") {
          throw new PollError(CloseCode.ABNORMAL, gettext("The server's answer was not understood."));
        }
        return answer;
      } finally {
        clearTimeout(timer);
      }
    };

    const showPresence = (presence) => {
      if (!presence || typeof presence !== "object") return;
      const shown = JSON.stringify(presence);
      if (shown === presenceShown) return;
      presenceShown = shown;
      onFrame({ ...presence, type: "presence" });
    };

    const deliver = (answer) => {
      if (answer.reset) {
        const reset = { type: "reset", last_seq: answer.last_seq, reason: answer.reset };
        if (typeof answer.epoch === "string") epoch = reset.epoch = answer.epoch;
        onFrame(reset);
      } else if (Array.isArray(answer.events) && answer.events.length > 0) {
        onFrame({ type: "events", events: answer.events });
      }
      if (!closed) showPresence(answer.presence);
      cursor = answer.last_seq;
    };

    const run = async () => {
      try {
        const greeting = await get({}, GREETING_ABORT_MS);
        if (closed) return;
        onOpen();
        const hello = { type: "hello", room: { slug }, last_seq: greeting.last_seq, presence: greeting.presence };
        onFrame(typeof greeting.epoch === "string" ? { ...hello, epoch: greeting.epoch } : hello);
        if (greeting.presence) presenceShown = JSON.stringify(greeting.presence);
        if (cursor === null || cursor === undefined) {
          cursor = greeting.last_seq;
          epoch = greeting.epoch ?? null;
        }
        while (!closed) {
          const started = Date.now();
          const answer = await get({ after: cursor, epoch, timeout: POLL_TIMEOUT_S }, POLL_ABORT_MS);
          if (closed) return;
          deliver(answer);
          const empty = !answer.reset && !(answer.events?.length > 0);
          const elapsed = Date.now() - started;
          if (empty && elapsed < MIN_EMPTY_POLL_MS) {
            await new Promise((resolve) => setTimeout(resolve, MIN_EMPTY_POLL_MS - elapsed));
          }
        }
      } catch (error) {
        if (closed) return;
        if (error instanceof PollError) finish(error.code, error.message);
        else finish(CloseCode.ABNORMAL, controller?.signal.aborted ? "poll timed out" : String(error));
      }
    };
    run();

    return {
      send(frame) {
        if (closed || !canPost(frame)) return false;
        postFrame(slug, frame).then(onFrame); // the post stands on its own, even if polling stopped
        return true;
      },
      close() {
        if (closed) return;
        closed = true; // a close we asked for is not reported as a loss
        controller?.abort();
      },
    };
  },
});
