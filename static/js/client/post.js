// Posting over HTTP, for the transports that only receive (SSE, long-poll):
// POST /rooms/<slug>/messages, answered with the same ack or error frame a WebSocket send gets.

import { gettext, interpolate } from "../ui/i18n.js";
import { roomPath } from "./protocol.js";

// Django's default CSRF_COOKIE_NAME; the room page sets it for signed-in users.
const CSRF_COOKIE = "csrftoken";
// Matches the client's send timeout: after that the caller has given up anyway.
const POST_TIMEOUT_MS = 15_000;
// Client frame types the HTTP endpoint accepts.
const POSTABLE_TYPES = new Set(["message", "danmaku"]);

/** The CSRF token: the csrftoken cookie, else a form's hidden csrfmiddlewaretoken field. */
export function csrfToken(doc = document) {
  for (const part of doc.cookie.split(";")) {
    const [name, ...value] = part.trim().split("=");
    if (name === CSRF_COOKIE) return decodeURIComponent(value.join("="));
  }
  const field = doc.querySelector('input[name="csrfmiddlewaretoken"]');
  return field ? field.value : null;
}

/** Whether a client frame can be sent over HTTP (pings cannot: there is no stream to keep alive). */
export function canPost(frame) {
  return POSTABLE_TYPES.has(frame?.type);
}

function errorFrame(nonce, code, message, extra = {}) {
  return { type: "error", nonce, code, message, ...extra };
}

/** The answer of a non-JSON response (a proxy's error page, Django's CSRF failure page). */
function errorForStatus(nonce, status) {
  if (status === 401) return errorFrame(nonce, "login_required", gettext("Log in to post."));
  if (status === 403) return errorFrame(nonce, "forbidden", gettext("The server refused the message (HTTP 403)."));
  if (status === 404) return errorFrame(nonce, "room_not_found", gettext("This room does not exist."));
  if (status === 413) return errorFrame(nonce, "too_long", gettext("The message is too long."));
  return errorFrame(
    nonce,
    "http_error",
    interpolate(gettext("The server could not take the message (HTTP %(status)s)."), { status }),
  );
}

/** The JSON body: a message is {text, nonce} (the endpoint's default type); other frames keep `type`. */
function bodyOf(frame) {
  if (frame.type !== "message") return frame;
  const { type: _type, ...body } = frame;
  return body;
}

/**
 * POST a client frame ({type: "message", text, nonce}, {type: "danmaku", ...}); resolves with
 * the server's answer as an ack or error frame carrying the frame's nonce. Never rejects.
 */
export async function postFrame(slug, frame) {
  const body = bodyOf(frame);
  const nonce = frame.nonce ?? null;
  const headers = { "Content-Type": "application/json", Accept: "application/json" };
  const token = csrfToken();
  if (token) headers["X-CSRFToken"] = token;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), POST_TIMEOUT_MS);
  try {
    const response = await fetch(roomPath(slug, "messages"), {
      method: "POST",
      headers,
      body: JSON.stringify(body),
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
    if (answer === null || typeof answer !== "object" || (answer.type !== "ack" && answer.type !== "error")) {
      if (response.ok) return errorFrame(nonce, "bad_answer", gettext("The server's answer was not understood."));
      return errorForStatus(nonce, response.status);
    }
    if (answer.type === "error" && answer.retry_after === undefined) {
      const retryAfter = Number(response.headers.get("Retry-After"));
      if (retryAfter > 0) answer.retry_after = retryAfter;
    }
    return { ...answer, nonce };
  } catch {
    if (controller.signal.aborted) {
      return errorFrame(nonce, "timeout", gettext("No answer from the server: the message may not have been sent."));
    }
    return errorFrame(nonce, "network", gettext("The connection failed: the message may not have been sent."));
  } finally {
    clearTimeout(timer);
  }
}
