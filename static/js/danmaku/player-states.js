// What the player says about its video, in the page's language: loading, buffering, or why it
// failed. No DOM: the player (player.js) shows the text; tests/js runs this in Node.

import { gettext, interpolate } from "../ui/i18n.js";

// HTMLMediaElement's MediaError codes (the HTML standard), in words a viewer can act on: each a
// whole sentence, so a translation can order it as its language needs.
const MEDIA_ERRORS = {
  1: () => gettext("The video could not be loaded: loading was stopped."),
  2: () => gettext("The video could not be loaded: a network error interrupted it."),
  3: () => gettext("The video could not be loaded: the file is damaged or in a format this browser cannot decode."),
  4: () =>
    gettext(
      "The video could not be loaded: the address does not answer with a video this browser can play (missing, refused, or an unsupported format).",
    ),
};
const UNKNOWN_ERROR = () => gettext("The video could not be loaded: an unknown error.");

/** Why a video failed, as a sentence, from its `error` (a MediaError, or null), with the
 *  browser's own detail when it gives one. */
export function failureMessage(error) {
  const sentence = (MEDIA_ERRORS[error?.code] ?? UNKNOWN_ERROR)();
  const detail = typeof error?.message === "string" ? error.message.trim() : "";
  return detail ? interpolate(gettext("%(sentence)s (The browser says: %(detail)s)"), { sentence, detail }) : sentence;
}

/** The state a video's event moves the player to, or null when the event changes nothing. */
export function stateAfter(current, eventType) {
  if (current === "error") return eventType === "loadstart" ? "loading" : null;
  switch (eventType) {
    case "error":
      return "error";
    case "waiting":
      return current === "ready" || current === "loading" || current === "buffering" ? "buffering" : null;
    case "loadedmetadata":
    case "canplay":
    case "playing":
    case "seeked":
      return "ready";
    case "loadstart":
      return "loading";
    default:
      return null;
  }
}

/** The message for a state ("" when the video is simply playing or ready). */
export function stateMessage(state, error = null) {
  switch (state) {
    case "loading":
      return gettext("Loading the video…");
    case "buffering":
      return gettext("Buffering…");
    case "error":
      return failureMessage(error);
    default:
      return "";
  }
}

export const VIDEO_EVENTS = ["loadstart", "loadedmetadata", "canplay", "playing", "seeked", "waiting", "error"];
