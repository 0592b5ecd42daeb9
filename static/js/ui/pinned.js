// The pinned message atop the room page and the overlay's chat: set by the history answer's
// `pinned` and by `pin` events (docs/PROTOCOL.md), hidden when the pin's `until` passes. Its
// text goes in with textContent, like every message.

import { gettext } from "./i18n.js";

export class PinnedMessage {
  /**
   * @param {HTMLElement} box the pinned message's container (hidden while nothing is pinned)
   * @param {{now?: () => number}} [options]
   */
  constructor(box, { now = () => Date.now() } = {}) {
    this.box = box;
    this.now = now;
    this.pin = null;
    this.timer = null;
  }

  /** Show `pin` ({id, user, text, until}) or, for null, nothing. */
  show(pin) {
    clearTimeout(this.timer);
    this.timer = null;
    const untilMs = pin?.until ? Date.parse(pin.until) : null;
    if (!pin || (untilMs !== null && untilMs <= this.now())) {
      this.pin = null;
      this.box.hidden = true;
      this.box.replaceChildren();
      delete this.box.dataset.id;
      return;
    }
    this.pin = pin;
    const label = document.createElement("span");
    label.className = "pinned-label";
    label.textContent = gettext("Pinned");
    const parts = [label];
    if (pin.user) {
      const author = document.createElement("bdi");
      author.className = "msg-author";
      author.textContent = pin.user.name;
      parts.push(author);
    }
    const text = document.createElement("bdi");
    text.className = "msg-text";
    text.textContent = pin.text ?? "";
    parts.push(text);
    this.box.replaceChildren(...parts);
    this.box.dataset.id = String(pin.id);
    this.box.hidden = false;
    if (untilMs !== null) this.timer = setTimeout(() => this.show(null), untilMs - this.now());
  }

  /** Follow the room's events: `pin` changes it; a deletion or purge of the pinned message takes it down. */
  apply(events) {
    for (const event of events) {
      if (event.kind === "pin") this.show(event.pinned ?? null);
      else if (this.pin && event.kind === "delete" && event.target === this.pin.id) this.show(null);
      else if (this.pin && event.kind === "clear") this.show(null);
    }
  }
}
