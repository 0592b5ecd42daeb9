// A comment's text drawn once into its own small canvas (a sprite), so each frame only copies
// pixels: shaping and stroking text is the most expensive canvas call, and it is done once per
// comment instead of once per comment per frame (docs/RENDERER.md has the numbers).
//
// Text is only ever handed to fillText/strokeText: markup in a comment is drawn as the
// characters it is made of. A line feed (only imported comments have them: live text has its
// line breaks turned into spaces by the server) starts a new line, up to MAX_LINES; other control
// characters become spaces. The sprite is exactly as high as its lines and at most
// MAX_SPRITE_WIDTH_PX × MAX_SPRITE_HEIGHT_PX, so stacked combining marks or a giant glyph are
// clipped to the comment's own rectangle instead of spilling over its neighbours. Each line is
// drawn bidi-isolated (between FIRST STRONG ISOLATE and POP DIRECTIONAL ISOLATE): its direction
// comes from its own letters, and an override left open in it ends with it.

export const FONT_PX = Object.freeze({ small: 18, medium: 25, large: 36 });
export const SIZES = Object.freeze(Object.keys(FONT_PX));
// With Chinese and Japanese fonts behind the system's (site.css, --font-cjk): a full-width
// character is measured (measureText) and drawn at its real width, so tracks are allotted right.
export const FONT_FAMILY =
  'system-ui, "Noto Sans", "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "Noto Sans CJK JP", "Hiragino Sans", "Yu Gothic", sans-serif';
const FONT_WEIGHT = 600;
const LINE_HEIGHT = 1.25;
export const MAX_SPRITE_WIDTH_PX = 4096;
export const MAX_SPRITE_HEIGHT_PX = 4096;
// A positioned drawing's text is at most 1,000 characters (docs/PROTOCOL.md); more lines than
// this are not drawn.
export const MAX_LINES = 100;
// A font family named by an imported comment: quotes, backslashes and controls taken out, so it
// stays one CSS string (a name the browser does not have falls back to FONT_FAMILY).
const FONT_NAME_UNSAFE = /["\\\u0000-\u001f\u007f-\u009f]/g;
const COLOR_PATTERN = /^#[0-9a-f]{6}$/i;
// C0, DEL and C1 controls; line and paragraph separators would break the single line too.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

let measureContext = null;

/** `text` as one isolated bidi run (see above). */
export function isolated(text) {
  return `\u2068${text}\u2069`;
}

function newCanvas(width, height) {
  if (typeof OffscreenCanvas === "function") return new OffscreenCanvas(width, height);
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  return canvas;
}

/** The text as drawn on one line: control characters replaced by spaces. */
export function displayText(text) {
  return String(text ?? "").replace(CONTROL_CHARACTERS, " ");
}

/** The text's lines as drawn: split at line feeds (CR LF, CR too), each cleaned, at most MAX_LINES. */
export function textLines(text) {
  return String(text ?? "")
    .split(/\r\n|\r|\n/)
    .slice(0, MAX_LINES)
    .map(displayText);
}

export function normalColor(color) {
  return typeof color === "string" && COLOR_PATTERN.test(color) ? color.toLowerCase() : "#ffffff";
}

/** Font size in CSS px for a comment size and the viewer's scale. */
export function fontPx(size, scale = 1) {
  return Math.max(6, Math.round((FONT_PX[size] ?? FONT_PX.medium) * scale));
}

function fontFor(px, family = "") {
  const name = String(family ?? "").replace(FONT_NAME_UNSAFE, "").trim();
  return `${FONT_WEIGHT} ${px}px ${name ? `"${name}", ` : ""}${FONT_FAMILY}`;
}

function lineHeight(px) {
  return Math.ceil(px * LINE_HEIGHT);
}

function outlineWidth(px) {
  return Math.max(2, Math.round(px / 9));
}

/** Dark text gets a light outline, everything else a dark one. */
function outlineColor(color) {
  const value = Number.parseInt(color.slice(1), 16);
  const luminance = 0.2126 * ((value >> 16) & 255) + 0.7152 * ((value >> 8) & 255) + 0.0722 * (value & 255);
  return luminance < 64 ? "rgba(255,255,255,0.85)" : "rgba(0,0,0,0.75)";
}

// Measured boxes, by font and text: a burst repeats the same few texts (and a resize or a
// setting's change measures every waiting comment again), and shaping text is the dear part.
const MEASURED_MAX = 2000;

/** A bounded memo: `get(key, compute)` computes a key's value once; past `limit` keys the
 *  oldest is forgotten. */
export class Memo {
  constructor(limit) {
    this.limit = limit;
    this.values = new Map();
  }

  get(key, compute) {
    if (this.values.has(key)) return this.values.get(key);
    const value = compute();
    if (this.values.size >= this.limit) this.values.delete(this.values.keys().next().value);
    this.values.set(key, value);
    return value;
  }
}

const measured = new Memo(MEASURED_MAX);

/** The comment's box in CSS px, {w, h}, without drawing anything: its widest line, all its lines,
 *  each as wide as the font really draws it (a full-width character is about twice a Latin
 *  letter): measureText, never a width per character. */
export function measure(text, px, family = "") {
  if (measureContext === null) measureContext = newCanvas(1, 1).getContext("2d");
  measureContext.font = fontFor(px);
  if (family) measureContext.font = fontFor(px, family); // ignored if the browser refuses it
  const box = measured.get(`${measureContext.font}\u0000${text}`, () => {
    const lines = textLines(text);
    let widest = 0;
    for (const line of lines) {
      const metrics = measureContext.measureText(isolated(line));
      const inked = (metrics.actualBoundingBoxLeft ?? 0) + (metrics.actualBoundingBoxRight ?? 0);
      widest = Math.max(widest, metrics.width, inked);
    }
    const pad = outlineWidth(px) + 2;
    const w = Math.min(MAX_SPRITE_WIDTH_PX, Math.ceil(widest) + 2 * pad);
    return Object.freeze({ w, h: Math.min(MAX_SPRITE_HEIGHT_PX, lineHeight(px) * lines.length) });
  });
  return { w: box.w, h: box.h };
}

// The widest repeat badge (merge.js repeatBadge), with the space before it.
const WIDEST_BADGE = " ×99+";
const badgeWidths = new Memo(64); // by font

/** The room a comment keeps at its right end for a repeat badge, in CSS px (merging on). */
export function badgeSlot(px) {
  if (measureContext === null) measureContext = newCanvas(1, 1).getContext("2d");
  measureContext.font = fontFor(px);
  return badgeWidths.get(measureContext.font, () => Math.ceil(measureContext.measureText(WIDEST_BADGE).width));
}

/**
 * Draw a comment into a sprite at `ratio` device pixels per CSS pixel, one line under the other.
 * With `slot` > 0 the last `slot` px of `w` are the badge's (`badge`, e.g. "×3", drawn
 * right-aligned on the first line). `font` is a family tried before the usual ones; `stroke`
 * false leaves the outline out; `subtitle` puts a dark band behind the text.
 * @returns {OffscreenCanvas|HTMLCanvasElement}
 */
export function drawSprite(
  text,
  { px, w, h, color, ratio = 1, mine = false, slot = 0, badge = "", font = "", stroke = true, subtitle = false },
) {
  const canvas = newCanvas(Math.max(1, Math.ceil(w * ratio)), Math.max(1, Math.ceil(h * ratio)));
  const context = canvas.getContext("2d");
  context.scale(ratio, ratio);
  if (subtitle) {
    context.fillStyle = "rgba(0,0,0,0.55)";
    context.fillRect(0, 0, w, h);
  }
  context.font = fontFor(px);
  if (font) context.font = fontFor(px, font);
  context.textBaseline = "middle";
  context.textAlign = "left";
  context.direction = "ltr";
  context.lineJoin = "round";
  const pad = outlineWidth(px) + 2;
  const step = lineHeight(px);
  const y = step / 2;
  context.lineWidth = outlineWidth(px);
  context.strokeStyle = outlineColor(color);
  context.fillStyle = color;
  const lines = textLines(text);
  for (let index = 0; index < lines.length && index * step < h; index++) {
    const line = isolated(lines[index]);
    if (stroke) context.strokeText(line, pad, y + index * step);
    context.fillText(line, pad, y + index * step);
  }
  if (slot > 0 && badge !== "") {
    context.save();
    context.beginPath();
    context.rect(w - slot - pad, 0, slot + pad, h); // the badge never spills over the text
    context.clip();
    context.textAlign = "right";
    context.strokeText(badge, w - pad, y);
    context.fillText(badge, w - pad, y);
    context.restore();
  }
  if (mine) {
    context.lineWidth = 1.5;
    context.strokeStyle = color;
    context.strokeRect(0.75, 0.75, w - 1.5, h - 1.5);
  }
  return canvas;
}

/**
 * A sprite turned by `rotate` radians about its top-left corner, its width first scaled by
 * `scaleX` (a turn about the vertical axis, seen flat), drawn once into a sprite of its own, so
 * each frame copies it without a transform (a rotated copy is many times slower to draw, on a
 * software canvas above all). `w`, `h` are the sprite's CSS px. Returns the new sprite and where
 * its top-left corner lies from the original's (`ox`, `oy`, CSS px); at most
 * MAX_SPRITE_WIDTH_PX × MAX_SPRITE_HEIGHT_PX, the rest clipped.
 */
export function turnedSprite(sprite, { w, h, rotate = 0, scaleX = 1, ratio = 1 }) {
  const cos = Math.cos(rotate);
  const sin = Math.sin(rotate);
  const width = w * scaleX;
  const corners = [
    [0, 0],
    [width, 0],
    [0, h],
    [width, h],
  ].map(([x, y]) => [x * cos - y * sin, x * sin + y * cos].map((value) => Math.round(value * 1e6) / 1e6));
  const xs = corners.map(([x]) => x);
  const ys = corners.map(([, y]) => y);
  const ox = Math.floor(Math.min(...xs));
  const oy = Math.floor(Math.min(...ys));
  const outW = Math.min(MAX_SPRITE_WIDTH_PX, Math.ceil(Math.max(...xs)) - ox);
  const outH = Math.min(MAX_SPRITE_HEIGHT_PX, Math.ceil(Math.max(...ys)) - oy);
  const canvas = newCanvas(Math.max(1, Math.ceil(outW * ratio)), Math.max(1, Math.ceil(outH * ratio)));
  const context = canvas.getContext("2d");
  context.setTransform(ratio, 0, 0, ratio, -ox * ratio, -oy * ratio);
  context.rotate(rotate);
  context.scale(scaleX, 1);
  context.drawImage(sprite, 0, 0, w, h);
  return { sprite: canvas, ox, oy };
}

/** Let the browser have a sprite's memory back now rather than at the next collection. */
export function freeSprite(canvas) {
  if (!canvas) return;
  canvas.width = 0;
  canvas.height = 0;
}
