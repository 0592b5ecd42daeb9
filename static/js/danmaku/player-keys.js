// The player's keyboard shortcuts and its time display: which action a key press asks for (none
// while the viewer types in a field), and how a position reads. No DOM: tests/js runs it in Node.

export const SEEK_STEP_S = 5;
export const VOLUME_STEP = 0.1;

const ACTIONS = {
  " ": "play",
  ArrowLeft: "back",
  ArrowRight: "forward",
  ArrowUp: "louder",
  ArrowDown: "quieter",
  f: "fullscreen",
  d: "danmaku",
};

// Elements whose own keys these would steal: fields (typing, a range's arrows, a select's
// arrows) and, for the space bar, anything a space activates (a button, a summary, a link).
const FIELDS = new Set(["INPUT", "TEXTAREA", "SELECT"]);
const ACTIVATED_BY_SPACE = new Set(["BUTTON", "SUMMARY", "A"]);

/** Whether key presses on `target` belong to it (typing in a field, editable text). */
export function isTyping(target) {
  if (!target) return false;
  return FIELDS.has(target.tagName) || target.isContentEditable === true;
}

/** The action a keydown asks for ("play", "back", ...), or null. */
export function shortcutFor(event) {
  if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return null;
  if (isTyping(event.target)) return null;
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  const action = ACTIONS[key] ?? null;
  if (action === "play" && ACTIVATED_BY_SPACE.has(event.target?.tagName)) return null;
  return action;
}

/** A position in seconds as the player shows it: "0:07", "12:34", "1:02:03". */
export function formatTime(seconds) {
  const whole = Number.isFinite(seconds) && seconds > 0 ? Math.floor(seconds) : 0;
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const secs = String(whole % 60).padStart(2, "0");
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, "0")}:${secs}` : `${minutes}:${secs}`;
}

/** A volume moved by `step`, within 0..1 and rounded to the step's grain. */
export function stepVolume(volume, step) {
  return Math.min(1, Math.max(0, Math.round((volume + step) * 100) / 100));
}

/** A position moved by `step` seconds, within the video (duration unknown: no upper bound). */
export function stepPosition(position, step, duration) {
  const end = Number.isFinite(duration) ? duration : Infinity;
  return Math.min(end, Math.max(0, position + step));
}
