// Positioned comments (Bilibili's mode 7, `mode: "positioned"`): where one is, how opaque and how
// turned at a moment of its life. Pure functions of the comment's fields (docs/PROTOCOL.md), the
// time since it appeared and the stage's size; the renderer (renderer.js) draws its sprite there.
//
// Coordinates: whole numbers are pixels of Bilibili's reference stage, REFERENCE_WIDTH ×
// REFERENCE_HEIGHT (its Flash player's stage, which fan drawings were made on); fractions
// (`relative`) are fractions of the stage. Both are scaled to the actual stage, each axis by
// its own ratio, so a drawing covers the same part of the video at any size; text is scaled by
// the smaller of the two ratios, so it is never distorted. A path's points are reference pixels.
// docs/RENDERER.md has the reasoning.

export const REFERENCE_WIDTH = 682;
export const REFERENCE_HEIGHT = 438;
// A motion without a duration ("" in the file) takes this long, as in CommentCoreLibrary.
export const DEFAULT_MOTION_MS = 500;
// The server's bound (danmaku/positioned.py): nothing lives longer.
export const MAX_DURATION_MS = 60_000;

function finite(value, fallback) {
  return typeof value === "number" && Number.isFinite(value) ? value : fallback;
}

function clamp01(value) {
  return Math.min(1, Math.max(0, value));
}

/** How many stage px one reference px is, per axis, and the text's scale. */
export function stageScale(width, height) {
  const x = width / REFERENCE_WIDTH;
  const y = height / REFERENCE_HEIGHT;
  return { x, y, text: Math.min(x, y) };
}

/** A point of the comment's coordinates in stage CSS px. */
export function toStage(px, py, relative, width, height) {
  if (relative) return { x: px * width, y: py * height };
  const scale = stageScale(width, height);
  return { x: px * scale.x, y: py * scale.y };
}

/** How long the comment stays on screen (ms). */
export function lifetime(fields) {
  return Math.min(MAX_DURATION_MS, Math.max(1, finite(fields?.duration_ms, 4000)));
}

/** Opacity at `elapsed` ms: linear from alpha[0] to alpha[1] over the lifetime. */
export function alphaAt(fields, elapsed) {
  const [from, to] = Array.isArray(fields?.alpha) ? fields.alpha : [1, 1];
  const start = clamp01(finite(from, 1));
  const end = clamp01(finite(to, start));
  const progress = clamp01(elapsed / lifetime(fields));
  return start + (end - start) * progress;
}

/** Progress through a motion (0 to 1) with its easing: linear, or eased out (fast, then slow). */
export function motionProgress(elapsed, { delay = 0, duration = DEFAULT_MOTION_MS, linear = false } = {}) {
  if (elapsed <= delay) return 0;
  if (duration <= 0 || elapsed >= delay + duration) return 1;
  const t = (elapsed - delay) / duration;
  return linear ? t : 1 - (1 - t) * (1 - t);
}

function motionTiming(fields) {
  const motion = fields.motion ?? {};
  return {
    delay: Math.max(0, finite(motion.delay_ms, 0)),
    duration: Math.max(0, finite(motion.duration_ms, DEFAULT_MOTION_MS)),
    linear: fields.linear === true,
  };
}

function pathPoint(path, progress) {
  if (path.length === 1 || progress <= 0) return path[0];
  if (progress >= 1) return path[path.length - 1];
  const position = progress * (path.length - 1); // each segment takes an equal share of the time
  const index = Math.floor(position);
  const along = position - index;
  const [ax, ay] = path[index];
  const [bx, by] = path[index + 1];
  return [ax + (bx - ax) * along, ay + (by - ay) * along];
}

function validPath(path) {
  return (
    Array.isArray(path) &&
    path.length > 0 &&
    path.every((point) => Array.isArray(point) && Number.isFinite(point[0]) && Number.isFinite(point[1]))
  );
}

/**
 * Top-left corner of the comment at `elapsed` ms, in stage CSS px: its start position, or along
 * its motion (to x/y, or its path) after the motion's delay, for the motion's duration.
 */
export function positionAt(fields, elapsed, width, height) {
  const relative = fields.relative === true;
  const x = finite(fields.x, 0);
  const y = finite(fields.y, 0);
  if (validPath(fields.path)) {
    const [px, py] = pathPoint(fields.path, motionProgress(elapsed, motionTiming(fields)));
    return toStage(px, py, false, width, height);
  }
  const motion = fields.motion;
  if (!motion || !Number.isFinite(motion.x) || !Number.isFinite(motion.y)) {
    return toStage(x, y, relative, width, height);
  }
  const progress = motionProgress(elapsed, motionTiming(fields));
  return toStage(x + (motion.x - x) * progress, y + (motion.y - y) * progress, relative, width, height);
}

/**
 * Everything the renderer needs to draw the comment at `elapsed` ms: top-left `x`, `y` (CSS px),
 * `alpha`, the rotation about the top-left corner `rotate` (radians, Z), and `scaleX`: a turn
 * about the vertical axis (Y), drawn as its projection (the width times its cosine).
 */
export function frameAt(fields, elapsed, width, height) {
  const { x, y } = positionAt(fields, elapsed, width, height);
  const rotateZ = finite(fields.rotate_z, 0);
  const rotateY = finite(fields.rotate_y, 0);
  return {
    x,
    y,
    alpha: alphaAt(fields, elapsed),
    rotate: (rotateZ * Math.PI) / 180,
    scaleX: Math.cos((rotateY * Math.PI) / 180),
  };
}
