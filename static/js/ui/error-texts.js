// What the pages say when the server refuses something, in one place: by the refusal's stable
// code (docs/PROTOCOL.md). Posting texts are for what the room and watch pages send (`noun`:
// "message" or "comment", each sentence written out for both, as translations need); request
// texts are for any request, the moderator's actions too. A code without a text here shows the
// server's own message. Every sentence is in the page's language (ui/i18n.js).

import { gettext, interpolate } from "./i18n.js";

function seconds(value) {
  return Math.ceil(value);
}

/** The message's sentence or the comment's (each a msgid of its own, as translations need). */
function byNoun(noun, forMessage, forComment) {
  return noun === "comment" ? forComment : forMessage;
}

// Any request a page makes.
const REQUEST_TEXTS = {
  csrf_failed: () => gettext("The page's security token is stale; reload the page."),
  rate_limited: (error) =>
    error.retry_after
      ? interpolate(gettext("You are sending too fast; try again in %(seconds)s s."), {
          seconds: seconds(error.retry_after),
        })
      : gettext("You are sending too fast; wait a moment."),
};

// A message or comment that was posted, or could not be.
const POSTING_TEXTS = {
  login_required: () => gettext("Log in to post."),
  empty: (_, noun) =>
    byNoun(noun, gettext("The message is empty."), gettext("The comment is empty.")),
  too_long: (error, noun) =>
    error.limit
      ? interpolate(
          byNoun(
            noun,
            gettext("Message too long: the limit is %(limit)s characters."),
            gettext("Comment too long: the limit is %(limit)s characters."),
          ),
          { limit: error.limit },
        )
      : byNoun(noun, gettext("Message too long."), gettext("Comment too long.")),
  muted: (error) =>
    error.until
      ? interpolate(gettext("You are timed out in this room until %(time)s."), {
          time: new Date(error.until).toLocaleTimeString(),
        })
      : gettext("You are timed out in this room."),
  banned: () => gettext("You are banned from this room."),
  bad_reply: () =>
    gettext("The message you are replying to was removed; send it without the reply, or reply to another."),
  slow_mode: (error) =>
    interpolate(gettext("Slow mode is on: you can post again in %(seconds)s s."), {
      seconds: seconds(error.retry_after || 1),
    }),
  duplicate: (_, noun) =>
    byNoun(noun, gettext("You just sent that message."), gettext("You just sent that comment.")),
  unique_chat: (error, noun) =>
    interpolate(
      byNoun(
        noun,
        gettext("Unique chat is on: someone just sent that message. Say something new, or wait %(seconds)s s."),
        gettext("Unique chat is on: someone just sent that comment. Say something new, or wait %(seconds)s s."),
      ),
      { seconds: seconds(error.retry_after || 1) },
    ),
  too_many_pending: (error, noun) =>
    interpolate(
      byNoun(
        noun,
        gettext("Too many messages are waiting for this room's delay. Try again in %(seconds)s s."),
        gettext("Too many comments are waiting for this room's delay. Try again in %(seconds)s s."),
      ),
      { seconds: seconds(error.retry_after || 1) },
    ),
  moderators_only: () => gettext("Only moderators can post in this room right now."),
  blocked: (_, noun) =>
    byNoun(noun, gettext("This room does not allow that message."), gettext("This room does not allow that comment.")),
  private_room: () => gettext("This room is private."),
  invalid_mode: () => gettext("That position is not available."),
  invalid_color: () => gettext("That colour is not available."),
  invalid_size: () => gettext("That size is not available."),
  invalid_video_ms: () => gettext("The video position was refused; try again."),
  not_connected: (_, noun) => notSent(noun),
  disconnected: (_, noun) => notSent(noun),
  timeout: (_, noun) =>
    byNoun(
      noun,
      gettext("No answer from the server: the message may not have been sent."),
      gettext("No answer from the server: the comment may not have been sent."),
    ),
  // Not a refusal: accepted, but a moderator reviews it before anyone sees it.
  held: (error, noun) =>
    error.message ||
    byNoun(
      noun,
      gettext("A moderator will review your message before it appears."),
      gettext("A moderator will review your comment before it appears."),
    ),
};

function notSent(noun) {
  return byNoun(
    noun,
    gettext("Not connected: the message was not sent. Try again in a moment."),
    gettext("Not connected: the comment was not sent. Try again in a moment."),
  );
}

/** The sentence for a refused (or held) post; `error` is a RoomError or {code, message, ...}. */
export function postingErrorText(error, { noun = "message" } = {}) {
  const text = POSTING_TEXTS[error.code] ?? REQUEST_TEXTS[error.code];
  if (text) {
    return text(error, noun);
  }
  return (
    error.message ||
    byNoun(noun, gettext("The message could not be sent."), gettext("The comment could not be sent."))
  );
}

/** The sentence for any other refused request (a moderator's action): the server's, mostly. */
export function requestErrorText(error) {
  const text = REQUEST_TEXTS[error.code];
  return text ? text(error) : error.message || error.code || gettext("unknown error");
}

/** Where the login link of a refusal with code login_required goes: back here afterwards. */
export function loginAddress(pathname) {
  return `/accounts/login/?next=${encodeURIComponent(pathname)}`;
}
