// Replying from the room page: a Reply button on each message line; the composer then says
// "Replying to <name>" (with Cancel) and the next message it sends carries `reply_to`, the
// parent's id (docs/PROTOCOL.md). The server quotes the parent; the list shows the quote.

import { gettext, interpolate, interpolateParts } from "./i18n.js";

export class ReplyDraft {
  /**
   * @param {{bar: HTMLElement, label: HTMLElement, cancel: HTMLElement, input: HTMLInputElement}} parts
   *   bar: the line above the composer, hidden while not replying
   */
  constructor(parts) {
    this.parts = parts;
    this.target = null;
    parts.cancel.addEventListener("click", () => {
      this.cancel();
      parts.input.focus();
    });
    parts.input.addEventListener("keydown", (key) => {
      if (key.key === "Escape" && this.target !== null) this.cancel();
    });
  }

  /** MessageList's `decorate`: a Reply button on the lines of messages (not comments, not system lines). */
  decorate(item, event) {
    if (event.kind !== "message" || !event.user || event.id === undefined || event.id === null) return;
    const control = document.createElement("button");
    control.type = "button";
    control.className = "link-button msg-reply";
    control.textContent = gettext("Reply");
    control.dataset.testid = "reply";
    control.setAttribute("aria-label", interpolate(gettext("Reply to %(name)s"), { name: event.user.name }));
    control.addEventListener("click", () => this.start(event));
    item.append(control);
  }

  /** Reply to `event`: say so above the composer and put the cursor in it. */
  start(event) {
    this.target = { id: event.id, name: event.user?.name ?? gettext("someone") };
    // The name in a <bdi> of its own: its bidi controls cannot reorder the sentence around it.
    const name = document.createElement("bdi");
    name.className = "reply-target";
    name.textContent = this.target.name;
    this.parts.label.replaceChildren(...interpolateParts(gettext("Replying to %(name)s"), { name }));
    this.parts.bar.hidden = false;
    this.parts.input.focus();
  }

  cancel() {
    this.target = null;
    this.parts.bar.hidden = true;
    this.parts.label.textContent = "";
  }

  /** The parent went away (deleted, banned author's messages purged): stop replying to it. */
  forget(messageId) {
    if (this.target?.id === messageId) this.cancel();
  }

  /** What the message frame adds: {reply_to} while replying, else nothing. */
  fields() {
    return this.target === null ? {} : { reply_to: this.target.id };
  }
}
