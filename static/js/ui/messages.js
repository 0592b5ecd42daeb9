// The message list of a room page: renders events, keeps them in seq order, no duplicates.
// User text only ever goes in through textContent, in <bdi> elements: a name or message takes
// its direction from its own letters and, whatever bidi controls it holds, cannot reorder the
// line around it.

const RENDERED_KINDS = new Set(["message", "system", "danmaku"]);
// How close to the bottom (px) still counts as "at the bottom" for auto-scrolling.
const BOTTOM_SLACK_PX = 48;

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

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
   * @param {{meId?: number|null, empty?: HTMLElement|null}} [options]
   *   empty: a note shown while the list is empty (updateEmptyNote() shows it the first time)
   */
  constructor(list, scroller, { meId = null, empty = null } = {}) {
    this.list = list;
    this.scroller = scroller;
    this.meId = meId;
    this.empty = empty;
    this.bySeq = new Map(); // seq -> <li>
    this.byId = new Map(); // message id -> <li>
    this.deletedIds = new Set(); // deleted before (or while) we saw them
    this.clearedThrough = 0; // a `clear` hides everything up to its seq
    this._keepBottomOnResize();
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
    this._keepingBottom(() => {
      for (const event of events) {
        if (event.kind === "delete") this.remove(event.target);
        else if (event.kind === "clear") this.clear(event.seq);
        else this.add(event);
      }
    });
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
    if (!RENDERED_KINDS.has(event.kind) || this.bySeq.has(event.seq)) return;
    if (event.deleted || this.deletedIds.has(event.id) || event.seq <= this.clearedThrough) return;
    const item = this._render(event);
    this._insert(item, event.seq);
    this.bySeq.set(event.seq, item);
    if (event.id !== undefined && event.id !== null) this.byId.set(event.id, item);
    this.updateEmptyNote();
  }

  /** Remove the message with this id (a moderator deleted it). */
  remove(messageId) {
    this.deletedIds.add(messageId);
    const item = this.byId.get(messageId);
    if (!item) return;
    this.byId.delete(messageId);
    this.bySeq.delete(Number(item.dataset.seq));
    item.remove();
    this.updateEmptyNote();
  }

  /** Empty the list; with a seq, also refuse anything older that shows up later. */
  clear(throughSeq = 0) {
    this.clearedThrough = Math.max(this.clearedThrough, throughSeq);
    this.list.replaceChildren();
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
      oldest.remove();
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
    this.clearedThrough = 0;
    this.clear();
  }

  isAtBottom() {
    const { scrollHeight, scrollTop, clientHeight } = this.scroller;
    return scrollHeight - scrollTop - clientHeight <= BOTTOM_SLACK_PX;
  }

  scrollToBottom() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
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

  _render(event) {
    const item = element("li", `msg msg-${event.kind}`);
    item.dataset.seq = String(event.seq);
    item.dataset.kind = event.kind;
    if (event.id !== undefined && event.id !== null) item.dataset.id = String(event.id);
    if (event.kind === "system" || !event.user) {
      item.append(element("bdi", "msg-text", event.text ?? ""));
    } else {
      if (this.meId !== null && event.user.id === this.meId) item.classList.add("msg-mine");
      const author = element("bdi", "msg-author", event.user.name);
      author.dataset.userId = String(event.user.id);
      item.append(author);
      if (event.user.bot === true) item.append(element("span", "bot-badge", "bot"));
      item.append(element("bdi", "msg-text", event.text ?? ""));
    }
    const time = renderTime(event.ts);
    if (time) item.append(time);
    return item;
  }
}
