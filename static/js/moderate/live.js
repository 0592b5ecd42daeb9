// The live feed of the moderator's page: the latest history, then the room's events from its
// last seq over RoomClient (WebSocket, else SSE, else long-poll), into a ModerationFeed.
// ?transport=ws|sse|poll on the page forces one transport, as on the room page.

import { Backoff } from "../client/backoff.js";
import { RoomClient } from "../client/realtime.js";
import { showConnectionState } from "../ui/state-label.js";
import { transportsFor } from "../client/transport.js";
import { busy } from "./dom.js";
import { ModerationFeed } from "./feed.js";

const HISTORY_PAGE = 50;
const HISTORY_ATTEMPTS = 5;


export class LiveFeed {
  /**
   * @param {{list: HTMLElement, scroller: HTMLElement, empty: HTMLElement,
   *          loadOlder: HTMLButtonElement, state: HTMLElement}} parts
   * @param {{slug: string, historyUrl: string, meId: number|null,
   *          onAction: (action: string, event: object, button: HTMLButtonElement) => void,
   *          onEvents: (events: object[]) => void, onPresence: (presence: object) => void,
   *          onReset: () => void, onError: (error: Error, what: string) => void}} options
   */
  constructor(parts, { slug, historyUrl, meId, onAction, onEvents, onPresence, onReset, onError }) {
    this.parts = parts;
    this.slug = slug;
    this.historyUrl = historyUrl;
    this.handlers = { onEvents, onPresence, onReset, onError };
    this.resetToken = 0;
    this.feed = new ModerationFeed(parts.list, parts.scroller, {
      meId,
      onAction,
      onChange: () => {
        parts.empty.hidden = this.feed.size > 0;
      },
    });
    parts.loadOlder.addEventListener("click", () => this.loadOlder());
  }

  /** Remove the line of message `id` (also done when its delete event arrives). */
  remove(id) {
    this.feed.remove(id);
  }

  /** Load the latest messages, then follow the room live. */
  async start() {
    let after = null;
    try {
      after = (await this._showLatest()).last_seq;
    } catch (error) {
      this.handlers.onError(error, "Could not load the latest messages; showing new ones only");
    }
    this.parts.empty.hidden = this.feed.size > 0;
    const transports = transportsFor(new URLSearchParams(window.location.search).get("transport"));
    const client = new RoomClient(this.slug, { after, transports });
    client.on("state", (state) => this._showState(state));
    client.on("events", ({ events }) => {
      this.feed.apply(events);
      if (events.some((event) => event.kind === "clear")) this.parts.loadOlder.hidden = true;
      this.handlers.onEvents(events);
    });
    client.on("presence", (presence) => this.handlers.onPresence(presence));
    client.on("reset", () => {
      this._reload();
      this.handlers.onReset();
    });
    client.on("notice", (error) => console.warn("room:", error.code, error.message));
    client.connect();
  }

  async loadOlder() {
    const before = this.feed.oldestSeq;
    if (before === null) return;
    try {
      const page = await busy(this.parts.loadOlder, () => this._fetchHistory({ before }));
      this.feed.addHistory(page.events, { older: true });
      this.parts.loadOlder.hidden = !page.has_more;
    } catch (error) {
      this.handlers.onError(error, "Could not load older messages");
    }
  }

  async _showLatest() {
    const page = await this._fetchHistoryRetrying();
    this.feed.addHistory(page.events);
    this.parts.loadOlder.hidden = !page.has_more;
    this.feed.scrollToBottom();
    return page;
  }

  /** After a reset: forget what is shown and load the latest again. */
  async _reload() {
    const token = ++this.resetToken;
    this.feed.reset();
    this.parts.loadOlder.hidden = true;
    try {
      const page = await this._fetchHistoryRetrying();
      if (token !== this.resetToken) return;
      this.feed.addHistory(page.events);
      this.parts.loadOlder.hidden = !page.has_more;
      this.feed.scrollToBottom();
    } catch (error) {
      this.handlers.onError(error, "Could not reload the feed");
    }
  }

  async _fetchHistory({ before = null } = {}) {
    const params = new URLSearchParams({ limit: String(HISTORY_PAGE) });
    if (before !== null) params.set("before", String(before));
    const response = await fetch(`${this.historyUrl}?${params}`, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (!response.ok) throw new Error(`history: HTTP ${response.status}`);
    return response.json();
  }

  async _fetchHistoryRetrying() {
    const backoff = new Backoff();
    for (let attempt = 1; ; attempt++) {
      try {
        return await this._fetchHistory();
      } catch (error) {
        if (attempt >= HISTORY_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, 250 + backoff.next()));
      }
    }
  }

  _showState(event) {
    showConnectionState(this.parts.state, event);
  }

}
