// The review queue: messages the server held (blocked words, review mode) until a moderator
// approves (published as usual) or rejects them. Polled, since held messages are not room events.

import { gettext, interpolateParts } from "../ui/i18n.js";
import { button, element, timeElement, userText } from "./dom.js";

const REASONS = {
  blocked_word: () => gettext("blocked word"),
  review_all: () => gettext("every message is reviewed"),
  new_account: () => gettext("new account"),
  hidden_user: () => gettext("hidden user"),
  delayed: () => gettext("chat delay"),
};

export class ReviewQueue {
  /**
   * @param {{list: HTMLElement, empty: HTMLElement, count: HTMLElement}} parts
   * @param {import("./api.js").ModApi} api
   * @param {{onDecided: (item: object, approve: boolean, answer: object) => void,
   *          onError: (error: Error, what: string) => void,
   *          onReports?: (reports: object[]) => void}} handlers
   *   onReports: the reported messages that came with the queue (reports.js)
   */
  constructor(parts, api, { onDecided, onError, onReports = () => {} }) {
    this.parts = parts;
    this.api = api;
    this.onDecided = onDecided;
    this.onReports = onReports;
    this.onError = onError;
    this.items = new Map(); // held id -> {item, node}
    this.loading = null;
    this.lastError = null;
    parts.list.addEventListener("click", (click) => {
      const target = click.target instanceof Element ? click.target.closest("button[data-action]") : null;
      const node = target ? target.closest("li[data-id]") : null;
      if (!node) return;
      const entry = this.items.get(node.dataset.id);
      if (entry) this.decide(entry, target.dataset.action === "approve");
    });
  }

  /** Fetch the queue (one request at a time; a call during one waits for it). */
  refresh() {
    if (this.loading) return this.loading;
    this.loading = (async () => {
      try {
        const answer = await this.api.get("review");
        this.render(Array.isArray(answer.held) ? answer.held : []);
        this.onReports(Array.isArray(answer.reports) ? answer.reports : []);
        this.lastError = null;
      } catch (error) {
        // A refresh runs every few seconds: report a failure once, not every time.
        if (this.lastError?.code !== error.code) this.onError(error, gettext("Could not load the review queue"));
        this.lastError = error;
      } finally {
        this.loading = null;
      }
    })();
    return this.loading;
  }

  /** Show `held` (oldest first), keeping the lines already shown so a click is never lost. */
  render(held) {
    const wanted = new Set(held.map((item) => String(item.id)));
    for (const [id, entry] of this.items) {
      if (!wanted.has(id) && !entry.busy) {
        entry.node.remove();
        this.items.delete(id);
      }
    }
    let previous = null;
    for (const item of held) {
      const id = String(item.id);
      let entry = this.items.get(id);
      if (!entry) {
        entry = { item, node: this._render(item), busy: false };
        this.items.set(id, entry);
      }
      if (previous === null) {
        if (this.parts.list.firstElementChild !== entry.node) this.parts.list.prepend(entry.node);
      } else if (previous.nextElementSibling !== entry.node) {
        previous.after(entry.node);
      }
      previous = entry.node;
    }
    this._showCount();
  }

  async decide(entry, approve) {
    if (entry.busy) return;
    entry.busy = true;
    const buttons = entry.node.querySelectorAll("button");
    buttons.forEach((node) => {
      node.disabled = true;
    });
    try {
      const answer = await this.api.decide(entry.item.id, approve);
      this._drop(entry);
      this.onDecided(entry.item, approve, answer);
    } catch (error) {
      if (error.code === "already_decided" || error.code === "not_found") {
        this._drop(entry); // another moderator decided it first
        this.onError(error, gettext("That message was already decided"));
      } else {
        this.onError(error, approve ? gettext("Could not approve the message") : gettext("Could not reject the message"));
      }
    } finally {
      entry.busy = false;
      buttons.forEach((node) => {
        node.disabled = false;
      });
      this.refresh();
    }
  }

  _drop(entry) {
    entry.node.remove();
    this.items.delete(String(entry.item.id));
    this._showCount();
  }

  _showCount() {
    this.parts.count.textContent = String(this.items.size);
    this.parts.count.dataset.count = String(this.items.size);
    this.parts.empty.hidden = this.items.size > 0;
  }

  _render(item) {
    const node = element("li", "review-item");
    node.dataset.id = String(item.id);
    node.dataset.testid = "review-item";
    const head = element("div", "review-head");
    head.append(userText("span", "review-author", item.user?.name ?? gettext("someone")));
    if (item.user?.bot === true) head.append(element("span", "bot-badge", gettext("bot")));
    const kind = element("span", "kind-badge", item.kind === "danmaku" ? gettext("danmaku") : gettext("message"));
    if (item.kind === "danmaku") kind.title = [item.mode, item.size, item.color].filter(Boolean).join(" · ");
    head.append(kind);
    const reason = element(
      "span",
      "review-reason",
      REASONS[item.reason] ? REASONS[item.reason]() : String(item.reason ?? gettext("held")),
    );
    reason.dataset.reason = String(item.reason ?? "");
    head.append(reason);
    const time = timeElement(item.created);
    if (time) head.append(time);
    if (item.release_at) {
      // Chat delay: it appears by itself then; Reject removes it, Approve shows it now.
      const release = element("span", "review-release");
      const at = timeElement(item.release_at, { seconds: true });
      if (at) release.append(...interpolateParts(gettext("appears at %(time)s"), { time: at }));
      head.append(release);
    }
    const text = userText("p", "review-text", item.text ?? "");
    text.dataset.testid = "review-text";
    const actions = element("div", "review-actions");
    actions.append(
      button(gettext("Approve"), "", { action: "approve", testid: "review-approve" }),
      button(gettext("Reject"), "danger-button", { action: "reject", testid: "review-reject" }),
    );
    node.append(head, text, actions);
    return node;
  }
}
