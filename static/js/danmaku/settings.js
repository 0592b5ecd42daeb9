// Viewer settings: what this viewer wants to see of the comments.
//
// The same keys everywhere: the renderer's view (renderer.js), localStorage, and
// GET/PUT /danmaku/settings for a signed-in viewer (docs/PROTOCOL.md), whose server copy follows
// them from browser to browser. On load a signed-in viewer's saved copy wins over this
// browser's, then this browser's, then the defaults. Every change is kept in localStorage at
// once and, when signed in, PUT to the server shortly after (changes in a burst, like dragging a
// slider, make one request).

import { csrfToken } from "../client/post.js";
import { isValidKeyword } from "./filters.js";

export const STORAGE_KEY = "danmaku:viewer-settings";
export const AREAS = Object.freeze([0.25, 0.5, 0.75, 1]);
export const HIDEABLE_MODES = Object.freeze(["scroll", "top", "bottom", "reverse", "color"]);
// The server's limits (danmaku/options.py): a longer list or entry is refused as a whole.
export const LIST_MAX = 200;
export const ENTRY_MAX_CHARS = 100;
export const RANGES = Object.freeze({
  opacity: Object.freeze([0.1, 1]),
  speed: Object.freeze([0.25, 4]),
  scale: Object.freeze([0.5, 3]),
});
export const VIEWER_DEFAULTS = Object.freeze({
  show: true,
  opacity: 1,
  speed: 1,
  scale: 1,
  area: 1,
  hidden_modes: Object.freeze([]),
  blocked_keywords: Object.freeze([]),
  blocked_users: Object.freeze([]),
});
// Wait this long after the last change before saving to the server.
const SAVE_DELAY_MS = 400;

function number(value, [low, high], fallback) {
  const valid = typeof value === "number" && Number.isFinite(value) && value >= low && value <= high;
  return valid ? value : fallback;
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

/** Complete, valid settings from anything (missing or bad values become the defaults). */
export function cleanSettings(value) {
  const source = value && typeof value === "object" ? value : {};
  const hidden = Array.isArray(source.hidden_modes) ? source.hidden_modes : [];
  return {
    show: typeof source.show === "boolean" ? source.show : VIEWER_DEFAULTS.show,
    opacity: number(source.opacity, RANGES.opacity, VIEWER_DEFAULTS.opacity),
    speed: number(source.speed, RANGES.speed, VIEWER_DEFAULTS.speed),
    scale: number(source.scale, RANGES.scale, VIEWER_DEFAULTS.scale),
    area: AREAS.includes(source.area) ? source.area : VIEWER_DEFAULTS.area,
    hidden_modes: HIDEABLE_MODES.filter((mode) => hidden.includes(mode)),
    blocked_keywords: entries(source.blocked_keywords, isValidKeyword),
    blocked_users: entries(source.blocked_users),
  };
}

export function loadLocal(storage = globalThis.localStorage) {
  try {
    const raw = storage?.getItem(STORAGE_KEY);
    return raw ? cleanSettings(JSON.parse(raw)) : null;
  } catch {
    return null; // storage disabled, or a value someone edited by hand
  }
}

export function saveLocal(settings, storage = globalThis.localStorage) {
  try {
    storage?.setItem(STORAGE_KEY, JSON.stringify(settings));
    return true;
  } catch {
    return false; // storage full or disabled: the settings still apply to this page
  }
}

/** Why the server refused a save, for people. */
export class SettingsError extends Error {
  constructor(code, message) {
    super(message || code);
    this.name = "SettingsError";
    this.code = code;
  }
}

/** PUT the settings to the server; resolves with what it stored. */
export async function saveRemote(url, settings) {
  const headers = { "Content-Type": "application/json", Accept: "application/json" };
  const token = csrfToken();
  if (token) headers["X-CSRFToken"] = token;
  let response;
  try {
    response = await fetch(url, {
      method: "PUT",
      headers,
      body: JSON.stringify({ settings }),
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch {
    throw new SettingsError("network", "The server could not be reached.");
  }
  let answer = null;
  try {
    answer = await response.json();
  } catch {
    answer = null;
  }
  if (!response.ok || !answer || typeof answer.settings !== "object") {
    throw new SettingsError(answer?.code ?? "http_error", answer?.message ?? `HTTP ${response.status}`);
  }
  return answer.settings;
}

/**
 * The page's settings. Events: `change` (detail: the settings) after every update, and
 * `status` (detail: {state: "local"|"saving"|"saved"|"error", message?}).
 */
export class SettingsStore extends EventTarget {
  /**
   * @param {{saved?: object|null, url?: string|null, signedIn?: boolean, storage?: Storage}} options
   *   saved: the signed-in viewer's settings from the server (null when none or signed out)
   */
  constructor({ saved = null, url = null, signedIn = false, storage = globalThis.localStorage } = {}) {
    super();
    this.url = url;
    this.remote = signedIn && Boolean(url);
    this.storage = storage;
    const hasSaved = saved && typeof saved === "object" && Object.keys(saved).length > 0;
    this.settings = cleanSettings(hasSaved ? saved : loadLocal(storage) ?? {});
    if (hasSaved) saveLocal(this.settings, storage);
    this.timer = null;
    this.saves = 0;
    this.inflight = Promise.resolve();
    this.state = this.remote ? "saved" : "local";
  }

  get() {
    return this.settings;
  }

  /** Change some settings: applied, kept in this browser, and saved to the server when signed in. */
  update(changes) {
    this.settings = cleanSettings({ ...this.settings, ...changes });
    saveLocal(this.settings, this.storage);
    this.dispatchEvent(new CustomEvent("change", { detail: this.settings }));
    if (!this.remote) {
      this._status("local");
      return;
    }
    this._status("saving");
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this._save(), SAVE_DELAY_MS);
  }

  async _save() {
    this.timer = null;
    const ticket = ++this.saves;
    // One request at a time, each sending the newest settings: an older copy never lands last.
    const save = this.inflight.then(() => saveRemote(this.url, this.settings));
    this.inflight = save.catch(() => {});
    try {
      await save;
      if (ticket === this.saves && this.timer === null) this._status("saved");
    } catch (error) {
      if (ticket === this.saves && this.timer === null) this._status("error", error.message);
    }
  }

  _status(state, message = "") {
    this.state = state;
    this.dispatchEvent(new CustomEvent("status", { detail: { state, message } }));
  }
}
