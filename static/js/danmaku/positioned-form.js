// The watch page's positioned-comment form (a room's owner and moderators only; the server
// refuses anyone else with `positioned_forbidden`): text, a position picked by clicking the
// video, a duration, a fade and an optional motion, sent as a `danmaku` frame with
// `mode: "positioned"` (docs/PROTOCOL.md). Positions are fractions of the stage, so they land on
// the same spot of the video at any size.
//
// `positionedFrame` turns the form's values into the frame and checks the server's limits first;
// `stagePoint` turns a click into fractions of the stage. Both are pure (tests/js/danmaku).

import { showPostingError } from "../ui/composer.js";
import { formatNumber, gettext, interpolate, ngettext } from "../ui/i18n.js";

// The server's limits (danmaku/positioned.py).
export const TEXT_MAX_CHARS = 1000;
export const DURATION_MAX_MS = 60_000;

export class FormProblem extends Error {
  constructor(field, message) {
    super(message);
    this.code = "invalid_positioned";
    this.field = field;
  }
}

/**
 * A click at (clientX, clientY) on a stage with bounding `rect`, as fractions of its width and
 * height, clamped inside the stage. Never a whole number (0 or 1): whole numbers would be read as
 * pixels of Bilibili's reference stage (docs/RENDERER.md).
 */
export function stagePoint(clientX, clientY, rect) {
  const fraction = (offset, size) => {
    const value = size > 0 ? offset / size : 0.5;
    return Math.round(Math.min(0.9999, Math.max(0.0001, value)) * 10_000) / 10_000;
  };
  return { x: fraction(clientX - rect.left, rect.width), y: fraction(clientY - rect.top, rect.height) };
}

// Each field's sentence when its value is out of bounds: whole sentences, for the translations.
const OUT_OF_BOUNDS = {
  duration: () => gettext("The duration must be a number of seconds from %(low)s to %(high)s."),
  x: () => gettext("The start's x must be a percentage from %(low)s to %(high)s."),
  y: () => gettext("The start's y must be a percentage from %(low)s to %(high)s."),
  alphaFrom: () => gettext("The opacity at the start must be a number from %(low)s to %(high)s."),
  alphaTo: () => gettext("The opacity at the end must be a number from %(low)s to %(high)s."),
  toX: () => gettext("The end's x must be a percentage from %(low)s to %(high)s."),
  toY: () => gettext("The end's y must be a percentage from %(low)s to %(high)s."),
  motionMs: () => gettext("The motion's time must be a number of milliseconds from %(low)s to %(high)s."),
  delayMs: () => gettext("The motion's delay must be a number of milliseconds from %(low)s to %(high)s."),
};

function number(value, field, low, high) {
  const parsed = typeof value === "number" ? value : Number(String(value ?? "").trim());
  if (String(value ?? "").trim() === "" || !Number.isFinite(parsed) || parsed < low || parsed > high) {
    const message = interpolate(OUT_OF_BOUNDS[field](), { low: formatNumber(low), high: formatNumber(high) });
    throw new FormProblem(field, message);
  }
  return parsed;
}

/** A percentage of the stage (0 to 100) as a fraction, never a whole number (see stagePoint). */
function fraction(value, field) {
  const percent = number(value, field, 0, 100);
  return Math.round(Math.min(0.9999, Math.max(0.0001, percent / 100)) * 10_000) / 10_000;
}

/**
 * The `danmaku` frame for the form's values:
 *   {text, x, y (percent of the stage), duration (s), alphaFrom, alphaTo,
 *    move (bool), toX, toY (percent), motionMs, delayMs}
 * with `style` ({color, size}) and `videoMs` (null on a live room). Throws FormProblem.
 */
export function positionedFrame(values, { style = {}, videoMs = null } = {}) {
  const text = String(values.text ?? "").replace(/\r\n?/g, "\n");
  if (text.trim() === "") throw new FormProblem("text", gettext("Write the comment's text."));
  if ([...text].length > TEXT_MAX_CHARS) {
    const most = ngettext(
      "The text may be at most %(count)s character.",
      "The text may be at most %(count)s characters.",
      TEXT_MAX_CHARS,
    );
    throw new FormProblem("text", interpolate(most, { count: formatNumber(TEXT_MAX_CHARS) }));
  }
  const seconds = number(values.duration, "duration", 0.1, DURATION_MAX_MS / 1000);
  const positioned = {
    x: fraction(values.x, "x"),
    y: fraction(values.y, "y"),
    duration_ms: Math.round(seconds * 1000),
    alpha: [number(values.alphaFrom, "alphaFrom", 0, 1), number(values.alphaTo, "alphaTo", 0, 1)],
  };
  if (values.move) {
    positioned.motion = {
      x: fraction(values.toX, "toX"),
      y: fraction(values.toY, "toY"),
      duration_ms: Math.round(number(values.motionMs, "motionMs", 0, DURATION_MAX_MS)),
      delay_ms: Math.round(number(values.delayMs, "delayMs", 0, DURATION_MAX_MS)),
    };
    positioned.linear = true;
  }
  const frame = { type: "danmaku", mode: "positioned", text, video_ms: videoMs, positioned };
  if (style.color) frame.color = style.color;
  if (style.size) frame.size = style.size;
  return frame;
}

/**
 * Wire the form: its "pick" buttons make the next click on `stage` set the start (or the end)
 * position; submitting sends the frame with `send(frame)` (a promise, RoomClient's answer).
 *   style()     the comment bar's {color, size}
 *   position()  the video position to post at (ms), null on a live room
 */
export function bindPositionedForm(form, { stage, send, style = () => ({}), position = () => null }) {
  const field = (name) => form.querySelector(`[data-field="${name}"]`);
  const error = form.querySelector('[data-role="positioned-error"]');
  const status = form.querySelector('[data-role="positioned-status"]');
  let picking = null; // "start", "end" or null

  const setPicking = (which) => {
    picking = which;
    stage.classList.toggle("picking", which !== null);
    for (const button of form.querySelectorAll("[data-pick]")) {
      button.setAttribute("aria-pressed", String(button.dataset.pick === which));
    }
  };
  for (const button of form.querySelectorAll("[data-pick]")) {
    button.addEventListener("click", () => setPicking(picking === button.dataset.pick ? null : button.dataset.pick));
  }
  // Capture: the click that picks a point never reaches the video (which would play or pause).
  stage.addEventListener(
    "click",
    (event) => {
      if (picking === null) return;
      event.preventDefault();
      event.stopPropagation();
      const point = stagePoint(event.clientX, event.clientY, stage.getBoundingClientRect());
      const [x, y] = picking === "end" ? ["to-x", "to-y"] : ["x", "y"];
      field(x).value = String(Math.round(point.x * 1000) / 10);
      field(y).value = String(Math.round(point.y * 1000) / 10);
      if (picking === "end") field("move").checked = true;
      setPicking(null);
    },
    { capture: true },
  );

  let sending = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (sending) return;
    status.textContent = "";
    let frame;
    try {
      frame = positionedFrame(
        {
          text: field("text").value,
          x: field("x").value,
          y: field("y").value,
          duration: field("duration").value,
          alphaFrom: field("alpha-from").value,
          alphaTo: field("alpha-to").value,
          move: field("move").checked,
          toX: field("to-x").value,
          toY: field("to-y").value,
          motionMs: field("motion-ms").value,
          delayMs: field("delay-ms").value,
        },
        { style: style(), videoMs: position() },
      );
    } catch (problem) {
      showPostingError(error, problem, { noun: "comment" });
      return;
    }
    sending = true;
    form.setAttribute("aria-busy", "true");
    try {
      const answer = await send(frame);
      showPostingError(error, answer?.held ? { code: "held", message: answer.message } : null, { noun: "comment" });
      status.textContent = answer?.held ? "" : gettext("Posted.");
      field("text").value = "";
    } catch (problem) {
      showPostingError(error, problem, { noun: "comment" });
    } finally {
      sending = false;
      form.removeAttribute("aria-busy");
    }
  });
  form.addEventListener("input", () => {
    if (!error.hidden) showPostingError(error, null);
  });
}
