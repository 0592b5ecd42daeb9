// What the player says about its video: loading, buffering, or why it failed. No DOM: the
// player (player.js) shows the text; tests/js runs this in Node.

// HTMLMediaElement's MediaError codes (the HTML standard), in words a viewer can act on.
const MEDIA_ERRORS = {
  1: "loading was stopped",
  2: "a network error interrupted it",
  3: "the file is damaged or in a format this browser cannot decode",
  4: "the address does not answer with a video this browser can play (missing, refused, or an unsupported format)",
};

/** The reason a video failed, from its `error` (a MediaError, or null). */
export function failureReason(error) {
  const reason = MEDIA_ERRORS[error?.code] ?? "an unknown error";
  const detail = typeof error?.message === "string" ? error.message.trim() : "";
  return detail ? `${reason} (${detail})` : reason;
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
      return "Loading the video…";
    case "buffering":
      return "Buffering…";
    case "error":
      return `The video could not be loaded: ${failureReason(error)}.`;
    default:
      return "";
  }
}

export const VIDEO_EVENTS = ["loadstart", "loadedmetadata", "canplay", "playing", "seeked", "waiting", "error"];
