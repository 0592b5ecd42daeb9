// The audit log: who did what, newest first, a page at a time ("Older entries").

import { element, timeElement, userText } from "./dom.js";

const PAGE = 50;

// How an action reads after the actor's name; unknown actions are shown by their code.
const ACTIONS = {
  delete: "deleted a message of",
  clear: "cleared the room",
  timeout: "timed out",
  ban: "banned",
  unban: "lifted the sanction of",
  settings: "changed the settings",
  approve: "approved a held message of",
  reject: "rejected a held message of",
  pin: "pinned a message of",
  hide: "hid",
  unhide: "stopped hiding",
  report: "reported a message of",
  dismiss_reports: "dismissed the reports of a message",
  unpin: "unpinned the pinned message",
  moderator_add: "made a moderator:",
  moderator_remove: "removed the moderator",
  member_add: "invited",
  member_remove: "removed the member",
  call_access: "changed who may join the call",
  call_invite: "invited to the call:",
  call_uninvite: "withdrew the call invitation of",
  call_remove: "removed from the call:",
};

// Actions whose target_event is a message (the others name their own event).
const MESSAGE_ACTIONS = new Set(["delete", "approve", "pin", "report", "dismiss_reports"]);

function describeValue(value) {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.map(describeValue).join(", ");
  if (value && typeof value === "object") {
    // e.g. the settings a change touched: "slow mode seconds: 7; private: true"
    return Object.entries(value)
      .map(([key, inner]) => `${key.replaceAll("_", " ")}: ${describeValue(inner)}`)
      .join("; ");
  }
  return JSON.stringify(value);
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
        this.onError(error, "Could not load the audit log");
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
      this.onError(error, "Could not load older audit entries");
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
    line.append(userText("span", "audit-actor", entry.actor ?? "system"), " ");
    line.append(element("span", "audit-action", ACTIONS[entry.action] ?? String(entry.action ?? "").replaceAll("_", " ")));
    if (entry.target) line.append(" ", userText("span", "audit-target", entry.target));
    if (MESSAGE_ACTIONS.has(entry.action) && entry.target_event !== null && entry.target_event !== undefined) {
      line.append(" ", element("span", "audit-event muted", `(message #${entry.target_event})`));
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
        const cell = userText("dd", "", shown ? "" : describeValue(value));
        if (shown) cell.append(shown);
        row.append(element("dt", "", key.replaceAll("_", " ")), cell);
        list.append(row);
      }
      item.append(list);
    }
    return item;
  }
}
