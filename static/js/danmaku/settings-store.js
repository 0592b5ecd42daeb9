// Where a viewer's settings (viewer-settings.js) are kept: this browser's localStorage, and
// for a signed-in viewer also the server.
//
// The same keys everywhere: the renderer's view (renderer.js), localStorage, and
// GET/PUT /danmaku/settings for a signed-in viewer (docs/PROTOCOL.md), whose server copy follows
// them from browser to browser. On load a signed-in viewer's saved copy wins over this
// browser's, then this browser's, then the defaults. Every change is kept in localStorage at
// once and, when signed in, PUT to the server shortly after (changes in a burst, like dragging a
// slider, make one request).

import { csrfToken } from "../client/post.js";
import { gettext, interpolate } from "../ui/i18n.js";
import { cleanSettings } from "./viewer-settings.js";

export const STORAGE_KEY = "danmaku:viewer-settings";
// Wait this long after the last change before saving to the server.
const SAVE_DELAY_MS = 400;

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
    throw new SettingsError("network", gettext("The server could not be reached."));
  }
  let answer = null;
  try {
    answer = await response.json();
  } catch {
    answer = null;
  }
  if (!response.ok || !answer || typeof answer.settings !== "object") {
    throw new SettingsError(
      answer?.code ?? "http_error",
      answer?.message ?? interpolate(gettext("The server answered with HTTP status %(status)s."), { status: response.status }),
    );
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
