// What a viewer may set about the comments they see, in one place: the keys, their defaults,
// their ranges, and the cleaning of a stored copy. The renderer (renderer.js), the settings panel
// (settings-panel.js) and the store (settings-store.js) all take them from here; the server
// checks the same ranges when it saves a signed-in viewer's copy (danmaku/options.py).

import { isValidKeyword } from "./filters.js";

export const AREAS = Object.freeze([0.25, 0.5, 0.75, 1]);
export const HIDEABLE_MODES = Object.freeze(["scroll", "top", "bottom", "reverse", "color"]);
// The server's limits (danmaku/options.py): a longer list or entry is refused as a whole.
export const LIST_MAX = 200;
export const ENTRY_MAX_CHARS = 100;
// Speed and scale are as wide as the overlay's ?speed= and ?scale= (docs/PROTOCOL.md), so the
// watch page can show whatever a documented overlay address shows.
export const RANGES = Object.freeze({
  opacity: Object.freeze([0.1, 1]),
  speed: Object.freeze([0.25, 4]),
  scale: Object.freeze([0.25, 4]),
});
// The renderer also draws the overlay, whose ?opacity= may be 0 (danmaku/options.py).
const RENDER_OPACITY = Object.freeze([0, RANGES.opacity[1]]);
export const VIEWER_DEFAULTS = Object.freeze({
  show: true,
  opacity: 1,
  speed: 1,
  scale: 1,
  area: 1,
  hidden_modes: Object.freeze([]),
  blocked_keywords: Object.freeze([]),
  blocked_users: Object.freeze([]),
  // Repeats of a comment within a few seconds show once, with ×N (merge.js).
  merge_repeats: false,
});

function inRange(value, [low, high], fallback) {
  const valid = typeof value === "number" && Number.isFinite(value) && value >= low && value <= high;
  return valid ? value : fallback;
}

function clamped(value, [low, high], fallback) {
  const number = Number(value);
  return Number.isFinite(number) ? Math.min(high, Math.max(low, number)) : fallback;
}

function entries(value, keep = () => true) {
  if (!Array.isArray(value)) return [];
  const cleaned = [];
  for (const item of value) {
    if (typeof item !== "string") continue;
    const entry = item.trim();
    if (entry === "" || entry.length > ENTRY_MAX_CHARS || cleaned.includes(entry) || !keep(entry)) continue;
    cleaned.push(entry);
    if (cleaned.length === LIST_MAX) break;
  }
  return cleaned;
}

/** Complete, valid settings from anything stored (missing or bad values become the defaults). */
export function cleanSettings(value) {
  const source = value && typeof value === "object" ? value : {};
  const hidden = Array.isArray(source.hidden_modes) ? source.hidden_modes : [];
  return {
    show: typeof source.show === "boolean" ? source.show : VIEWER_DEFAULTS.show,
    opacity: inRange(source.opacity, RANGES.opacity, VIEWER_DEFAULTS.opacity),
    speed: inRange(source.speed, RANGES.speed, VIEWER_DEFAULTS.speed),
    scale: inRange(source.scale, RANGES.scale, VIEWER_DEFAULTS.scale),
    area: AREAS.includes(source.area) ? source.area : VIEWER_DEFAULTS.area,
    hidden_modes: HIDEABLE_MODES.filter((mode) => hidden.includes(mode)),
    blocked_keywords: entries(source.blocked_keywords, isValidKeyword),
    blocked_users: entries(source.blocked_users),
    merge_repeats: typeof source.merge_repeats === "boolean" ? source.merge_repeats : VIEWER_DEFAULTS.merge_repeats,
  };
}

/** The renderer's view of some settings: numbers held within their ranges, lists copied. */
export function clampView(view) {
  const lists = (value) => (Array.isArray(value) ? [...value] : []);
  return {
    show: view.show !== false,
    opacity: clamped(view.opacity, RENDER_OPACITY, VIEWER_DEFAULTS.opacity),
    speed: clamped(view.speed, RANGES.speed, VIEWER_DEFAULTS.speed),
    scale: clamped(view.scale, RANGES.scale, VIEWER_DEFAULTS.scale),
    area: clamped(view.area, [AREAS[0], AREAS.at(-1)], VIEWER_DEFAULTS.area),
    hidden_modes: lists(view.hidden_modes),
    blocked_keywords: lists(view.blocked_keywords),
    blocked_users: lists(view.blocked_users),
    merge_repeats: view.merge_repeats === true,
  };
}
