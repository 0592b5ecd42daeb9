// The message list of a room page: renders events, keeps them in seq order, no duplicates.
// User text only ever goes in through textContent, in <bdi> elements: a name or message takes
// its direction from its own letters and, whatever bidi controls it holds, cannot reorder the
// line around it.

import { gettext, interpolate, ngettext, pageLanguage } from "./i18n.js";
import { badges, nameColour } from "./names.js";
import { renderRichText } from "./rich-text.js";

const RENDERED_KINDS = new Set(["message", "system", "danmaku"]);
// What a deleted message leaves in its place where the room wants a trace of it.
// (In the page's language: i18n.js reads the page's catalog before this module runs.)
export const REMOVED_TEXT = gettext("removed by a moderator");
export const PENDING_TEXT = gettext("pending: a moderator reviews it before anyone else sees it");
/** The status of our message waiting for the room's chat delay: when it appears. */
export function delayedText(releaseAt) {
  const moment = new Date(releaseAt);
  if (Number.isNaN(moment.getTime())) {
    return gettext("pending: appears to everyone shortly (the room's chat delay)");
  }
  const time = new Intl.DateTimeFormat(pageLanguage(), { timeStyle: "medium" }).format(moment);
  return interpolate(gettext("pending: appears to everyone at %(time)s (the room's chat delay)"), { time });
}
export const PARENT_REMOVED_TEXT = gettext("a message that was removed");
export const PARENT_NOT_LOADED_TEXT = gettext("that message is no longer in the room's history");
// How long a message jumped to from a reply stays highlighted (ms).
const JUMP_HIGHLIGHT_MS = 2500;
export const REJECTED_TEXT = gettext("not approved by a moderator: no one else saw it");
// Messages from one person less than this far apart (ms) form a group: the name shows once.
export const GROUP_WINDOW_MS = 5 * 60 * 1000;
// How close to the bottom (px) still counts as "at the bottom" for auto-scrolling.
const BOTTOM_SLACK_PX = 48;

// Times in the page's language, as its dates and numbers are.
const timeFormat = new Intl.DateTimeFormat(pageLanguage(), { hour: "2-digit", minute: "2-digit" });
const dateTimeFormat = new Intl.DateTimeFormat(pageLanguage(), { dateStyle: "medium", timeStyle: "medium" });

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function renderTime(ts) {
  const moment = new Date(ts);
  if (Number.isNaN(moment.getTime())) return null;
  const node = element("time", "msg-time", timeFormat.format(moment));
  node.dateTime = ts;
  node.title = dateTimeFormat.format(moment);
  return node;
}

export class MessageList {
  /**
   * @param {HTMLElement} list the <ol> holding one <li> per event
   * @param {HTMLElement} scroller the scrolling container around it
   * @param {{meId?: number|null, empty?: HTMLElement|null, pending?: HTMLElement|null,
   *   removedDisplay?: string|null}} [options]
   *   empty: a note shown while the list is empty (updateEmptyNote() shows it the first time)
   *   pending: a list for our own messages held for review (shown to us only), or null
   *   removedDisplay: the room's setting ("placeholder": a deleted message leaves "removed by a
   *     moderator"; "vanish"), followed from settings events; null: always vanish (overlays)
   *   decorate(item, event): adds the page's own controls to each rendered line (a Report button)
   *   meName: the reader's user name: "@name" mentions of it are marked, and so is the line
   *   links: false keeps http(s) addresses as plain text (the overlay: no one can click a stream)
   *   newBelow: a button shown ("N new messages below") when lines arrive while the reader is
   *     scrolled up; clicking it scrolls to the newest, reaching the bottom hides it
   *   onMissingParent(replyTo): a reply's quote was clicked and its parent is not in the list;
   *     resolves once the page loaded what it could (older history), then the jump is retried
   */
  constructor(
    list,
    scroller,
    {
      meId = null,
      meName = null,
      empty = null,
      pending = null,
      removedDisplay = null,
      decorate = null,
      links = true,
      onMissingParent = null,
      newBelow = null,
    } = {},
  ) {
    this.newBelow = newBelow;
    this.unseen = 0; // lines that arrived below while the reader was scrolled up
    this.onMissingParent = onMissingParent;
    this.quotesByParent = new Map(); // parent message id -> the quotes of the replies shown
    this.meName = meName || null;
    this.links = links;
    this.decorate = decorate;
    this.list = list;
    this.scroller = scroller;
    this.meId = meId;
    this.empty = empty;
    this.pending = pending;
    this.removedDisplay = removedDisplay;
    this.pendingById = new Map(); // held id -> <li> in `pending`
    this.bySeq = new Map(); // seq -> <li>
    this.byId = new Map(); // message id -> <li>
    this.deletedIds = new Set(); // deleted before (or while) we saw them
    this.vanishedIds = new Set(); // deleted without a trace: not even a placeholder comes back
    this.clearedThrough = 0; // a `clear` hides everything up to its seq
    this._keepBottomOnResize();
    if (newBelow) {
      newBelow.addEventListener("click", () => this.scrollToBottom());
      scroller.addEventListener("scroll", () => {
        if (this.isAtBottom()) this._hideNewBelow();
      });
    }
  }

  _hideNewBelow() {
    this.unseen = 0;
    if (this.newBelow) this.newBelow.hidden = true;
  }

  _noteNewBelow(count) {
    if (!this.newBelow || count <= 0) return;
    this.unseen += count;
    const below = ngettext("%(count)s new message below", "%(count)s new messages below", this.unseen);
    this.newBelow.textContent = interpolate(below, { count: this.unseen });
    this.newBelow.hidden = false;
  }

  /**
   * When the list's box shrinks (an error line or a notice appears under it, the on-screen
   * keyboard opens), a reader who was at the newest message stays there: without this the
   * scroll position holds and the newest messages slide out of view under the new line.
   */
  _keepBottomOnResize() {
    if (typeof ResizeObserver !== "function" || typeof this.scroller.addEventListener !== "function") return;
    let atBottom = true;
    this.scroller.addEventListener("scroll", () => {
      atBottom = this.isAtBottom();
    });
    new ResizeObserver(() => {
      if (atBottom) this.scrollToBottom();
    }).observe(this.scroller);
  }

  get size() {
    return this.bySeq.size;
  }

  /** The smallest seq shown, or null when the list is empty. */
  get oldestSeq() {
    const first = this.list.firstElementChild;
    return first ? Number(first.dataset.seq) : null;
  }

  /** Apply live events in order: add content, remove deleted messages, empty on clear. */
  apply(events) {
    const before = this.size;
    const stick = this.isAtBottom();
    this._apply(events);
    if (stick) this._hideNewBelow();
    else this._noteNewBelow(this.size - before);
  }

  _apply(events) {
    this._keepingBottom(() => {
      for (const event of events) {
        if (event.kind === "delete") this.remove(event.target, event.placeholder);
        else if (event.kind === "clear") this.clear(event.seq);
        else if (event.kind === "ban") (event.removed ?? []).forEach(({ id }) => this.remove(id, event.placeholder));
        else if (event.kind === "review") this.settlePending(event.held_id, event.decision);
        else if (event.kind === "settings") this._followSettings(event.settings);
        else {
          if (event.held_id !== undefined) this.settlePending(event.held_id, "approved");
          this.add(event);
        }
      }
    });
  }

  /**
   * Show our message held for review (`held_id` from the ack) as pending, or as rejected; or,
   * with "private", kept from everyone else (a hidden user's), shown to us as an ordinary line.
   * `releaseAt`: it waits for the room's chat delay, and appears then unless a moderator removes it.
   */
  addPending(heldId, text, decision = "pending", releaseAt = null) {
    if (!this.pending || heldId === undefined || heldId === null || this.pendingById.has(heldId)) return;
    const shownPlain = decision === "private";
    const item = element("li", shownPlain ? "msg msg-mine" : "msg msg-pending msg-mine");
    item.dataset.heldId = String(heldId);
    const status = shownPlain ? "" : releaseAt ? delayedText(releaseAt) : PENDING_TEXT;
    if (releaseAt) item.dataset.delayed = "true";
    item.append(element("bdi", "msg-text", text), element("span", "msg-status", status));
    this.pending.append(item);
    this.pendingById.set(heldId, item);
    if (decision === "rejected") this.settlePending(heldId, decision);
    this.scrollToBottom();
  }

  /** A moderator decided our held message: approved ones leave (the message itself arrives), rejected ones say so. */
  settlePending(heldId, decision) {
    const item = this.pendingById.get(heldId);
    if (!item) return;
    if (decision === "approved") {
      this.pendingById.delete(heldId);
      item.remove();
      return;
    }
    item.className = "msg msg-rejected msg-mine";
    item.dataset.decision = decision;
    item.lastElementChild.textContent = REJECTED_TEXT; // the status line addPending put last
  }

  /** Add history (any order) at its place, keeping the view on what the reader was looking at. */
  addHistory(events, { older = false } = {}) {
    if (!older) {
      this._keepingBottom(() => events.forEach((event) => this.add(event)));
      return;
    }
    const before = this.scroller.scrollHeight;
    const top = this.scroller.scrollTop;
    events.forEach((event) => this.add(event));
    this.scroller.scrollTop = top + (this.scroller.scrollHeight - before);
  }

  /** Render one content event; ignored if already shown, deleted or cleared. */
  add(event) {
    if (!RENDERED_KINDS.has(event.kind) || this.bySeq.has(event.seq) || event.seq <= this.clearedThrough) return;
    const removed = event.deleted || this.deletedIds.has(event.id);
    if (removed && (this.removedDisplay !== "placeholder" || this.vanishedIds.has(event.id))) return;
    const item = removed ? this._renderRemoved(event) : this._render(event);
    if (!removed && this.decorate) this.decorate(item, event);
    this._insert(item, event.seq);
    this._regroup(item);
    this.bySeq.set(event.seq, item);
    if (event.id !== undefined && event.id !== null) this.byId.set(event.id, item);
    this.updateEmptyNote();
  }

  /**
   * A moderator deleted the message with this id: it leaves "removed by a moderator" where the
   * room wants that (`placeholder`, the event's word, else the room's setting), or vanishes.
   */
  remove(messageId, placeholder = undefined) {
    this.deletedIds.add(messageId);
    for (const quote of this.quotesByParent.get(messageId) ?? []) this._quoteRemoved(quote);
    const leaveTrace = this.removedDisplay !== null && (placeholder ?? this.removedDisplay === "placeholder");
    if (!leaveTrace) this.vanishedIds.add(messageId);
    const item = this.byId.get(messageId);
    if (!item) return;
    if (leaveTrace) {
      const trace = this._renderRemoved({ seq: Number(item.dataset.seq), id: messageId, kind: item.dataset.kind }, item);
      item.before(trace);
      this._forgetQuote(item);
      item.remove();
      if (trace.nextElementSibling) this._regroup(trace.nextElementSibling);
      return;
    }
    this.byId.delete(messageId);
    this.bySeq.delete(Number(item.dataset.seq));
    this._forgetQuote(item);
    const next = item.nextElementSibling;
    item.remove();
    if (next) this._regroup(next);
    this.updateEmptyNote();
  }

  /** Empty the list; with a seq, also refuse anything older that shows up later. */
  clear(throughSeq = 0) {
    this.clearedThrough = Math.max(this.clearedThrough, throughSeq);
    this.list.replaceChildren();
    this.quotesByParent.clear();
    this._hideNewBelow();
    this.bySeq.clear();
    this.byId.clear();
    this.updateEmptyNote();
  }

  /** Drop the oldest lines beyond the newest `count` (a list that only ever shows the latest). */
  keepNewest(count) {
    while (this.size > count) {
      const oldest = this.list.firstElementChild;
      this.bySeq.delete(Number(oldest.dataset.seq));
      if (oldest.dataset.id) this.byId.delete(Number(oldest.dataset.id));
      this._forgetQuote(oldest);
      oldest.remove();
      if (this.list.firstElementChild) this._regroup(this.list.firstElementChild);
    }
    this.updateEmptyNote();
  }

  /** Show the empty note when nothing is listed (the page calls it once its history is in). */
  updateEmptyNote() {
    if (this.empty) this.empty.hidden = this.size > 0;
  }

  /** Forget everything (before reloading history after a reset). */
  reset() {
    this.deletedIds.clear();
    this.vanishedIds.clear();
    this.clearedThrough = 0;
    this.clear();
  }

  isAtBottom() {
    const { scrollHeight, scrollTop, clientHeight } = this.scroller;
    return scrollHeight - scrollTop - clientHeight <= BOTTOM_SLACK_PX;
  }

  scrollToBottom() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this._hideNewBelow();
  }

  _keepingBottom(change) {
    const stick = this.isAtBottom();
    change();
    if (stick) this.scrollToBottom();
  }

  _insert(item, seq) {
    const last = this.list.lastElementChild;
    if (!last || Number(last.dataset.seq) < seq) {
      this.list.append(item);
      return;
    }
    let next = last;
    while (next.previousElementSibling && Number(next.previousElementSibling.dataset.seq) > seq) {
      next = next.previousElementSibling;
    }
    next.before(item);
  }

  /**
   * Group `item` with the line before it, and the line after it with `item`: consecutive
   * messages (or comments) of one person within GROUP_WINDOW_MS show the name once. The name
   * stays in the line, visually hidden, so a screen reader still says who wrote each.
   */
  _regroup(item) {
    for (const line of [item, item.nextElementSibling]) {
      if (!line) continue;
      const before = line.previousElementSibling;
      const grouped =
        before !== null &&
        line.dataset.userId !== undefined &&
        line.dataset.userId === before.dataset.userId &&
        line.dataset.kind === before.dataset.kind &&
        line.dataset.replyTo === undefined &&
        Math.abs(Number(line.dataset.ms) - Number(before.dataset.ms)) <= GROUP_WINDOW_MS;
      if (grouped) line.classList.add("msg-grouped");
      else line.classList.remove("msg-grouped");
    }
  }

  _followSettings(settings) {
    if (this.removedDisplay !== null && settings?.removed_display) this.removedDisplay = settings.removed_display;
  }

  /** The line a deleted message leaves: no author, no text, "removed by a moderator". */
  _renderRemoved(event, replacing = null) {
    const item = element("li", `msg msg-removed msg-${event.kind}`);
    item.dataset.seq = String(event.seq);
    item.dataset.kind = event.kind;
    item.dataset.removed = "true";
    if (event.id !== undefined && event.id !== null) item.dataset.id = String(event.id);
    item.append(element("span", "msg-text", REMOVED_TEXT));
    const kept = replacing ? [...replacing.children].find((node) => node.tagName === "TIME") : undefined;
    const time = kept ?? (event.ts ? renderTime(event.ts) : null);
    if (time) item.append(time);
    if (replacing) {
      this.bySeq.set(event.seq, item);
      this.byId.set(event.id, item);
    }
    return item;
  }

  /** A message's text: links and mentions of the reader marked, as DOM nodes (rich-text.js). */
  _text(text, rich) {
    const node = element("bdi", "msg-text");
    if (!rich || !this.links) {
      node.textContent = text;
      return node;
    }
    if (renderRichText(node, text, { meName: this.meName })) node.classList.add("mentions-me");
    return node;
  }

  /** The quoted parent atop a reply: a button that jumps to it; "removed" once it is deleted. */
  _quote(parent) {
    const quote = element("button", "msg-reply-quote");
    quote.type = "button";
    quote.dataset.replyTo = String(parent.id);
    quote.dataset.testid = "reply-quote";
    if (parent.removed || this.deletedIds.has(parent.id)) {
      this._quoteRemoved(quote);
    } else {
      // Read out as "In reply to bob: <excerpt>." before the reply's own author and text (the
      // list is a live region); on screen, "↪ bob <excerpt>".
      const arrow = element("span", "msg-reply-arrow", "↪");
      arrow.setAttribute("aria-hidden", "true");
      const name = element("bdi", "msg-reply-author", parent.user?.name ?? gettext("someone"));
      const excerpt = element("bdi", "msg-reply-excerpt", parent.excerpt ?? "");
      quote.append(element("span", "visually-hidden", gettext("In reply to ")), arrow, name);
      quote.append(element("span", "visually-hidden", ":"), excerpt, element("span", "visually-hidden", "."));
      quote.title = gettext("Show the message this replies to");
      quote.addEventListener("click", () => this.jumpToParent(quote, parent));
    }
    if (!this.quotesByParent.has(parent.id)) this.quotesByParent.set(parent.id, new Set());
    this.quotesByParent.get(parent.id).add(quote);
    return quote;
  }

  _forgetQuote(item) {
    if (!item.replyQuote) return;
    const parentId = Number(item.dataset.replyTo);
    const quotes = this.quotesByParent.get(parentId);
    quotes?.delete(item.replyQuote);
    if (quotes?.size === 0) this.quotesByParent.delete(parentId);
  }

  _quoteRemoved(quote) {
    quote.dataset.removed = "true";
    quote.disabled = true;
    quote.title = "";
    const arrow = element("span", "msg-reply-arrow", "↪");
    arrow.setAttribute("aria-hidden", "true");
    quote.replaceChildren(arrow, interpolate(gettext("In reply to %(what)s."), { what: PARENT_REMOVED_TEXT }));
  }

  /**
   * Scroll to the message with this id and highlight it for a moment; false if it is not in
   * the list (older than what is loaded, or gone).
   */
  jumpTo(id) {
    const item = this.byId.get(id);
    if (!item || item.dataset.removed === "true") return false;
    item.scrollIntoView?.({ block: "center" });
    item.classList.add("msg-jumped");
    item.tabIndex = -1;
    item.focus?.({ preventScroll: true });
    clearTimeout(item.jumpTimer);
    item.jumpTimer = setTimeout(() => item.classList.remove("msg-jumped"), JUMP_HIGHLIGHT_MS);
    return true;
  }

  /** A reply's quote was clicked: jump to the parent, loading older history first if needed. */
  async jumpToParent(quote, parent) {
    if (this.jumpTo(parent.id)) return;
    if (this.onMissingParent && (this.oldestSeq === null || parent.seq < this.oldestSeq)) {
      quote.setAttribute("aria-busy", "true");
      try {
        await this.onMissingParent(parent);
      } finally {
        quote.removeAttribute("aria-busy");
      }
      if (this.jumpTo(parent.id)) return;
    }
    if (this.deletedIds.has(parent.id)) {
      this._quoteRemoved(quote);
      return;
    }
    quote.dataset.missing = "true";
    quote.title = PARENT_NOT_LOADED_TEXT;
    let note = quote.nextElementSibling;
    if (!note || !note.classList.contains("msg-reply-note")) {
      note = element("span", "msg-reply-note", PARENT_NOT_LOADED_TEXT);
      note.setAttribute("role", "status");
      quote.after(note);
    }
  }

  _render(event) {
    const item = element("li", `msg msg-${event.kind}`);
    item.dataset.seq = String(event.seq);
    item.dataset.kind = event.kind;
    if (event.id !== undefined && event.id !== null) item.dataset.id = String(event.id);
    if (event.kind === "system" || !event.user) {
      item.append(element("bdi", "msg-text", event.text ?? ""));
    } else {
      if (this.meId !== null && event.user.id === this.meId) item.classList.add("msg-mine");
      const author = element("bdi", `msg-author name-c${nameColour(event.user.id)}`, event.user.name);
      author.dataset.userId = String(event.user.id);
      item.dataset.userId = String(event.user.id);
      const ms = Date.parse(event.ts);
      if (!Number.isNaN(ms)) item.dataset.ms = String(ms);
      if (event.reply_to && typeof event.reply_to === "object") {
        item.replyQuote = this._quote(event.reply_to);
        item.dataset.replyTo = String(event.reply_to.id);
        item.append(item.replyQuote);
      }
      item.append(author);
      item.append(...badges(event.user));
      const text = this._text(event.text ?? "", true);
      if (text.classList.contains("mentions-me")) item.classList.add("msg-mentions-me");
      item.append(text);
    }
    const time = renderTime(event.ts);
    if (time) item.append(time);
    return item;
  }
}
