// How the room page, the watch page and the moderator's page follow a room: the latest history
// first, then the room's stream from its last seq (RoomClient over the best transport that
// works, or the one the page's ?transport=ws|sse|poll names), the connection label, "Load
// older", a reload of the latest after a reset, and the composer (with its characters-left
// count from the start, posting once the stream is there).

import { ConnectionState } from "../client/connection-state.js";
import { fetchHistory, fetchLatestHistory } from "../client/history.js";
import { RoomClient } from "../client/realtime.js";
import { transportsFor } from "../client/transport.js";
import { wireCharsLeft } from "./chars-left.js";
import { wireComposer } from "./composer.js";
import { gettext } from "./i18n.js";
import { showConnectionState } from "./state-label.js";

function logError(error, what) {
  console.error(`${what}:`, error);
}

export class LiveRoom {
  /**
   * @param {object} options
   *   slug, historyUrl  the room and its history address
   *   list       the MessageList (or subclass) the events go into
   *   state      the connection label (state-label.js)
   *   loadOlder  the "Load older" button, or null
   *   composer   {form, input, error, noun, frame(text) -> client frame, onSent(answer, text),
   *              charsLeft}, or null; charsLeft: the "N characters left" element, its limit in
   *              data-max (chars-left.js), counted as the writer types and reset once a post is taken
   *   onEvents(events), onPresence(presence), onReset()  what else the page does with them
   *   onLatest(page)  a page of the latest history arrived (at the start, after a reset)
   *   onError(error, what)  a history load failed
   *   transports  in order of preference (default: the page's ?transport=, else all)
   */
  constructor({
    slug,
    historyUrl,
    list,
    state,
    loadOlder = null,
    composer = null,
    onEvents = () => {},
    onPresence = () => {},
    onReset = () => {},
    onLatest = () => {},
    onError = logError,
    transports = transportsFor(new URLSearchParams(window.location.search).get("transport")),
  }) {
    Object.assign(this, { slug, historyUrl, list, state, loadOlderButton: loadOlder, composer, transports });
    this.handlers = { onEvents, onPresence, onReset, onLatest, onError };
    this.client = null;
    this.resetToken = 0; // a reload started after another one wins
    const counter = composer?.charsLeft;
    this.updateCharsLeft = counter ? wireCharsLeft(composer.input, counter, Number(counter.dataset.max)) : () => {};
    loadOlder?.addEventListener("click", () => this.loadOlder());
  }

  /** Show the latest history, then follow the room live; resolves with the RoomClient. */
  async start() {
    let after = null;
    let epoch = null;
    try {
      const page = await fetchLatestHistory(this.historyUrl);
      after = this._showLatest(page);
      epoch = page.epoch ?? null; // the log the page's seqs belong to
    } catch (error) {
      this.handlers.onError(error, gettext("Could not load the latest messages; showing new ones only"));
    }
    this.list.updateEmptyNote();
    const client = new RoomClient(this.slug, { after, epoch, transports: this.transports });
    this.client = client;
    let composer = null;
    client.on("state", (state) => {
      showConnectionState(this.state, state);
      if (state.state === ConnectionState.LIVE) composer?.connected();
    });
    client.on("events", ({ events }) => {
      this.list.apply(events);
      if (this.loadOlderButton && events.some((event) => event.kind === "clear")) this.loadOlderButton.hidden = true;
      this.handlers.onEvents(events);
    });
    client.on("presence", (presence) => this.handlers.onPresence(presence));
    client.on("reset", () => this._reload());
    client.on("notice", (error) => console.warn("room:", error.code, error.message));
    if (this.composer) {
      const { form, frame, charsLeft, onSent = () => {}, ...parts } = this.composer;
      composer = wireComposer(form, {
        ...parts,
        send: (text) => client.sendFrame(frame(text)),
        onSent: (answer, text) => {
          this.updateCharsLeft(); // the input was emptied without an input event
          onSent(answer, text);
        },
      });
    }
    client.connect();
    return client;
  }

  /** The page of history before the oldest message shown. */
  async loadOlder() {
    const before = this.list.oldestSeq;
    if (before === null || !this.loadOlderButton) return;
    this.loadOlderButton.disabled = true;
    this.loadOlderButton.setAttribute("aria-busy", "true");
    try {
      const page = await fetchHistory(this.historyUrl, { before });
      this.list.addHistory(page.events, { older: true });
      this.loadOlderButton.hidden = !page.has_more;
    } catch (error) {
      this.handlers.onError(error, gettext("Could not load older messages"));
    } finally {
      this.loadOlderButton.disabled = false;
      this.loadOlderButton.removeAttribute("aria-busy");
    }
  }

  /** Put a page of the latest history in the list; its last seq, where the stream goes on. */
  _showLatest(page) {
    this.list.addHistory(page.events);
    this.handlers.onLatest(page);
    if (this.loadOlderButton) this.loadOlderButton.hidden = !page.has_more;
    this.list.scrollToBottom();
    return page.last_seq;
  }

  /** After a reset: forget what is shown and load the latest again. */
  async _reload() {
    const token = ++this.resetToken;
    this.list.reset();
    if (this.loadOlderButton) this.loadOlderButton.hidden = true;
    this.handlers.onReset();
    try {
      const page = await fetchLatestHistory(this.historyUrl);
      if (token === this.resetToken) this._showLatest(page);
    } catch (error) {
      this.handlers.onError(error, gettext("Could not reload the feed"));
    }
  }
}
