// The live feed of the moderator's page: the room's message list (messages.js) with, on every
// message and comment, Delete, and Time out and Ban for its author.

import { MessageList } from "../ui/messages.js";
import { gettext, pgettext } from "../ui/i18n.js";
import { button, element } from "./dom.js";

/** A comment's position, size and colour, as the badge's title says them: "Scroll · Large ·
 * #ffd302" in the page's language (an unknown value as it came). */
export function danmakuStyle(event) {
  const modes = {
    scroll: pgettext("danmaku position", "Scroll"),
    top: pgettext("danmaku position", "Top"),
    bottom: pgettext("danmaku position", "Bottom"),
    reverse: pgettext("danmaku position", "Reverse"),
  };
  const sizes = {
    small: pgettext("danmaku size", "Small"),
    medium: pgettext("danmaku size", "Medium"),
    large: pgettext("danmaku size", "Large"),
  };
  const parts = [modes[event.mode] ?? event.mode, sizes[event.size] ?? event.size, event.color];
  return parts.filter(Boolean).join(" · ");
}

export class ModerationFeed extends MessageList {
  /**
   * @param {HTMLElement} list the <ol>
   * @param {HTMLElement} scroller its scrolling container
   * @param {{meId: number|null, empty?: HTMLElement|null,
   *          onAction: (action: string, event: object, button: HTMLButtonElement) => void}} options
   *   onAction is called with "delete", "timeout" or "ban" and the event of the clicked line.
   */
  constructor(list, scroller, { meId = null, empty = null, onAction }) {
    super(list, scroller, { meId, empty });
    this.eventOf = new WeakMap(); // <li> -> its event
    list.addEventListener("click", (click) => {
      const target = click.target instanceof Element ? click.target.closest("button[data-action]") : null;
      const item = target ? target.closest("li.msg") : null;
      if (!item || !this.eventOf.has(item)) return;
      onAction(target.dataset.action, this.eventOf.get(item), target);
    });
  }

  /** The line showing event `id`, if it is shown. */
  itemFor(id) {
    return this.byId.get(id) ?? null;
  }

  _render(event) {
    const item = super._render(event);
    this.eventOf.set(item, event);
    for (const node of item.querySelectorAll(".msg-author, .msg-text")) node.dir = "auto";
    if (event.kind === "danmaku") {
      const badge = element("span", "kind-badge", gettext("danmaku"));
      badge.title = danmakuStyle(event);
      item.prepend(badge);
    }
    const actions = element("span", "msg-actions");
    actions.append(button(gettext("Delete"), "quiet-button", { action: "delete", testid: "delete" }));
    if (event.kind === "message") actions.append(button(gettext("Pin"), "quiet-button", { action: "pin", testid: "pin" }));
    if (event.user && event.user.name && event.user.id !== this.meId) {
      actions.append(
        button(gettext("Time out"), "quiet-button", { action: "timeout", testid: "timeout" }),
        button(gettext("Ban"), "quiet-button danger-text", { action: "ban", testid: "ban" }),
      );
    }
    item.append(actions);
    return item;
  }
}
