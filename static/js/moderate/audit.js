// The audit log: who did what, newest first, a page at a time ("Older entries").

import { gettext, interpolate, interpolateParts, pgettext } from "../ui/i18n.js";
import { element, formatNumber, timeElement, userText } from "./dom.js";

const PAGE = 50;

// Each action as a sentence: %(actor)s did it, to %(target)s (a user) when it names one. An
// action this page does not know is shown by its code.
const ACTIONS = {
  delete: () => gettext("%(actor)s deleted a message of %(target)s"),
  clear: () => gettext("%(actor)s cleared the room"),
  timeout: () => gettext("%(actor)s timed out %(target)s"),
  ban: () => gettext("%(actor)s banned %(target)s"),
  unban: () => gettext("%(actor)s lifted the sanction of %(target)s"),
  settings: () => gettext("%(actor)s changed the settings"),
  approve: () => gettext("%(actor)s approved a held message of %(target)s"),
  reject: () => gettext("%(actor)s rejected a held message of %(target)s"),
  pin: () => gettext("%(actor)s pinned a message of %(target)s"),
  hide: () => gettext("%(actor)s hid %(target)s"),
  unhide: () => gettext("%(actor)s stopped hiding %(target)s"),
  report: () => gettext("%(actor)s reported a message of %(target)s"),
  dismiss_reports: () => gettext("%(actor)s dismissed the reports of a message"),
  unpin: () => gettext("%(actor)s unpinned the pinned message"),
  moderator_add: () => gettext("%(actor)s made a moderator: %(target)s"),
  moderator_remove: () => gettext("%(actor)s removed the moderator %(target)s"),
  member_add: () => gettext("%(actor)s invited %(target)s"),
  member_remove: () => gettext("%(actor)s removed the member %(target)s"),
  call_access: () => gettext("%(actor)s changed who may join the call"),
  call_invite: () => gettext("%(actor)s invited to the call: %(target)s"),
  call_uninvite: () => gettext("%(actor)s withdrew the call invitation of %(target)s"),
  call_remove: () => gettext("%(actor)s removed from the call: %(target)s"),
  system: () => gettext("%(actor)s posted a notice"),
  import: () => gettext("%(actor)s imported comments"),
  video: () => gettext("%(actor)s changed the video"),
  overlay_key_rotate: () => gettext("%(actor)s made a new overlay key"),
  overlay_key_clear: () => gettext("%(actor)s removed the overlay key"),
  embed_origin: () => gettext("%(actor)s changed where the room may be embedded"),
};

// Actions whose target_event is a message (the others name their own event).
const MESSAGE_ACTIONS = new Set(["delete", "approve", "pin", "report", "dismiss_reports"]);

// The names of an entry's details and of the settings a change touched (in English, their codes
// with spaces); others by their code.
const NAMES = {
  text: () => pgettext("audit detail", "text"),
  seconds: () => pgettext("audit detail", "seconds"),
  until: () => pgettext("audit detail", "until"),
  removed: () => pgettext("audit detail", "removed"),
  reports: () => pgettext("audit detail", "reports"),
  changed: () => pgettext("audit detail", "changed"),
  access: () => pgettext("audit detail", "access"),
  reason_held: () => pgettext("audit detail", "reason held"),
  imported: () => pgettext("audit detail", "imported"),
  skipped: () => pgettext("audit detail", "skipped"),
  origin: () => pgettext("audit detail", "origin"),
  had_key: () => pgettext("audit detail", "had key"),
  url: () => pgettext("audit detail", "url"),
  title: () => pgettext("audit detail", "title"),
  duration_ms: () => pgettext("audit detail", "duration ms"),
  live: () => pgettext("audit detail", "live"),
  slow_mode_seconds: () => pgettext("setting", "slow mode seconds"),
  posting: () => pgettext("setting", "who may post"),
  private: () => pgettext("setting", "private"),
  blocked_words: () => pgettext("setting", "blocked words"),
  blocked_action: () => pgettext("setting", "blocked action"),
  review: () => pgettext("setting", "review"),
  review_account_age_hours: () => pgettext("setting", "review account age hours"),
  removed_display: () => pgettext("setting", "removed display"),
  unique_chat: () => pgettext("setting", "unique chat"),
  unique_chat_seconds: () => pgettext("setting", "unique chat seconds"),
  chat_delay_seconds: () => pgettext("setting", "chat delay seconds"),
};

/** The name of a detail or setting `key` in the page's language. */
export function detailName(key) {
  return NAMES[key] ? NAMES[key]() : String(key).replaceAll("_", " ");
}

/** A detail's value as text: numbers in the page's language, yes and no, lists and settings. */
export function describeValue(value, key = "") {
  if (typeof value === "string") return value;
  if (typeof value === "number") return formatNumber(value);
  if (typeof value === "boolean") return value ? pgettext("audit value", "true") : pgettext("audit value", "false");
  if (Array.isArray(value)) return value.map((inner) => describeValue(inner)).join(pgettext("list separator", ", "));
  if (value && typeof value === "object") {
    // e.g. the settings a change touched: "slow mode seconds: 7; private: true"
    return Object.entries(value)
      .map(([name, inner]) =>
        interpolate(gettext("%(name)s: %(value)s"), { name: detailName(name), value: describeValue(inner, name) }),
      )
      .join(pgettext("list separator", "; "));
  }
  return JSON.stringify(value);
}

/** An entry's line as parts for `replaceChildren`: the sentence of its action, with the actor's
 *  and the target's names as the given nodes (user text stays in elements of its own). */
export function actionParts(entry, { actor, target }) {
  const sentence = ACTIONS[entry.action];
  if (sentence) return interpolateParts(sentence(), { actor, target });
  const code = String(entry.action ?? "").replaceAll("_", " ");
  const parts = interpolateParts(gettext("%(actor)s: %(action)s"), { actor, action: code });
  return entry.target ? [...parts, " ", target] : parts;
}

export class AuditLog {
  /**
   * @param {{list: HTMLElement, empty: HTMLElement, older: HTMLButtonElement}} parts
   * @param {import("./api.js").ModApi} api
   * @param {(error: Error, what: string) => void} onError
   */
  constructor(parts, api, onError) {
    this.parts = parts;
    this.api = api;
    this.onError = onError;
    this.shown = new Set(); // entry ids
    this.loading = null;
    this.again = false;
    parts.older.addEventListener("click", () => this.loadOlder());
  }

  get newestId() {
    const first = this.parts.list.firstElementChild;
    return first ? Number(first.dataset.id) : null;
  }

  get oldestId() {
    const last = this.parts.list.lastElementChild;
    return last ? Number(last.dataset.id) : null;
  }

  /** Put entries newer than the newest shown on top (a refresh during one runs once more after it). */
  refresh() {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = (async () => {
      try {
        const page = await this.api.get("audit", { limit: PAGE });
        const entries = Array.isArray(page.entries) ? page.entries : [];
        const fresh = entries.filter((entry) => !this.shown.has(entry.id));
        if (fresh.length === entries.length && page.has_more && this.shown.size > 0) {
          // More new entries than a page: what is shown would leave a hole, so start over.
          this.parts.list.replaceChildren();
          this.shown.clear();
        }
        const newest = this.newestId;
        const top = fresh.filter((entry) => newest === null || entry.id > newest);
        this.parts.list.prepend(...top.map((entry) => this._render(entry)));
        if (newest === null) this.parts.older.hidden = !page.has_more;
        this._showEmpty();
      } catch (error) {
        this.onError(error, gettext("Could not load the audit log"));
      } finally {
        this.loading = null;
        if (this.again) {
          this.again = false;
          this.refresh();
        }
      }
    })();
    return this.loading;
  }

  async loadOlder() {
    const before = this.oldestId;
    if (before === null) return;
    this.parts.older.disabled = true;
    try {
      const page = await this.api.get("audit", { before, limit: PAGE });
      const entries = (page.entries ?? []).filter((entry) => !this.shown.has(entry.id));
      this.parts.list.append(...entries.map((entry) => this._render(entry)));
      this.parts.older.hidden = !page.has_more;
    } catch (error) {
      this.onError(error, gettext("Could not load older audit entries"));
    } finally {
      this.parts.older.disabled = false;
    }
  }

  _showEmpty() {
    this.parts.empty.hidden = this.shown.size > 0;
  }

  _render(entry) {
    this.shown.add(entry.id);
    const item = element("li", "audit-entry");
    item.dataset.id = String(entry.id);
    item.dataset.action = String(entry.action ?? "");
    item.dataset.testid = "audit-entry";
    const time = timeElement(entry.ts, { seconds: true });
    if (time) item.append(time);
    const line = element("p", "audit-line");
    const actor = userText("span", "audit-actor", entry.actor ?? gettext("system"));
    const target = userText("span", "audit-target", entry.target ?? gettext("someone"));
    line.append(...actionParts(entry, { actor, target }));
    if (MESSAGE_ACTIONS.has(entry.action) && entry.target_event !== null && entry.target_event !== undefined) {
      const event = interpolate(gettext("(message #%(id)s)"), { id: entry.target_event });
      line.append(" ", element("span", "audit-event muted", event));
    }
    item.append(line);
    if (entry.reason) {
      const reason = userText("q", "audit-reason", entry.reason);
      reason.dataset.testid = "audit-reason";
      item.append(reason);
    }
    const detail = Object.entries(entry.detail && typeof entry.detail === "object" ? entry.detail : {}).filter(
      ([, value]) => value !== null && value !== undefined && value !== "",
    );
    if (detail.length) {
      const list = element("dl", "audit-detail");
      for (const [key, value] of detail) {
        const row = element("div");
        const shown = key === "until" ? timeElement(value, { seconds: true }) : null;
        const cell = userText("dd", "", shown ? "" : describeValue(value, key));
        if (shown) cell.append(shown);
        row.append(element("dt", "", detailName(key)), cell);
        list.append(row);
      }
      item.append(list);
    }
    return item;
  }
}
