// What the pages say when the server refuses something, in one place: by the refusal's stable
// code (docs/PROTOCOL.md). Posting texts are for what the room and watch pages send (`noun`
// names it: "message", "comment"); request texts are for any request, the moderator's actions
// too. A code without a text here shows the server's own message.

function seconds(value) {
  return Math.ceil(value);
}

function capitalized(word) {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

// Any request a page makes.
const REQUEST_TEXTS = {
  csrf_failed: () => "The page's security token is stale; reload the page.",
  rate_limited: (error) =>
    error.retry_after
      ? `You are sending too fast; try again in ${seconds(error.retry_after)} s.`
      : "You are sending too fast; wait a moment.",
};

// A message or comment that was posted, or could not be.
const POSTING_TEXTS = {
  login_required: () => "Log in to post.",
  empty: (_, noun) => `The ${noun} is empty.`,
  too_long: (error, noun) =>
    error.limit
      ? `${capitalized(noun)} too long: the limit is ${error.limit} characters.`
      : `${capitalized(noun)} too long.`,
  muted: (error) =>
    error.until
      ? `You are timed out in this room until ${new Date(error.until).toLocaleTimeString()}.`
      : "You are timed out in this room.",
  banned: () => "You are banned from this room.",
  bad_reply: () => "The message you are replying to was removed; send it without the reply, or reply to another.",
  slow_mode: (error) => `Slow mode is on: you can post again in ${seconds(error.retry_after || 1)} s.`,
  duplicate: (_, noun) => `You just sent that ${noun}.`,
  unique_chat: (error, noun) =>
    `Unique chat is on: someone just sent that ${noun}. Say something new, or wait ${seconds(error.retry_after || 1)} s.`,
  too_many_pending: (error, noun) =>
    `Too many ${noun}s are waiting for this room's delay. Try again in ${seconds(error.retry_after || 1)} s.`,
  moderators_only: () => "Only moderators can post in this room right now.",
  blocked: (_, noun) => `This room does not allow that ${noun}.`,
  private_room: () => "This room is private.",
  invalid_mode: () => "That position is not available.",
  invalid_color: () => "That colour is not available.",
  invalid_size: () => "That size is not available.",
  invalid_video_ms: () => "The video position was refused; try again.",
  not_connected: (_, noun) => `Not connected: the ${noun} was not sent. Try again in a moment.`,
  disconnected: (_, noun) => `Not connected: the ${noun} was not sent. Try again in a moment.`,
  timeout: (_, noun) => `No answer from the server: the ${noun} may not have been sent.`,
  // Not a refusal: accepted, but a moderator reviews it before anyone sees it.
  held: (error, noun) => error.message || `A moderator will review your ${noun} before it appears.`,
};

/** The sentence for a refused (or held) post; `error` is a RoomError or {code, message, ...}. */
export function postingErrorText(error, { noun = "message" } = {}) {
  const text = POSTING_TEXTS[error.code] ?? REQUEST_TEXTS[error.code];
  return text ? text(error, noun) : error.message || `The ${noun} could not be sent.`;
}

/** The sentence for any other refused request (a moderator's action): the server's, mostly. */
export function requestErrorText(error) {
  const text = REQUEST_TEXTS[error.code];
  return text ? text(error) : error.message || error.code || "unknown error";
}

/** Where the login link of a refusal with code login_required goes: back here afterwards. */
export function loginAddress(pathname) {
  return `/accounts/login/?next=${encodeURIComponent(pathname)}`;
}
