// What the moderator's page re-reads, and when: the parts no room event announces are polled
// (the review queue, the figures, the state), and room events that change the audit log or the
// state have them re-read once per burst.

// Held messages are not room events, so the queue is polled.
const REVIEW_REFRESH_MS = 5_000;
// Viewers and the per-minute chart; also re-checks which timeouts have run out.
const STATS_REFRESH_MS = 10_000;
// Sanctions and people change by room events too; this catches what no event announces.
const STATE_REFRESH_MS = 30_000;
// Room events often come in bursts (a clear, several deletes): re-read the log once per burst.
const EVENT_REFRESH_DELAY_MS = 250;
// Room events that change the audit log, and those that change the state endpoint's answer.
const AUDITED_KINDS = new Set(["delete", "clear", "ban", "unban", "settings"]);
const STATE_KINDS = new Set(["ban", "unban", "settings"]);

export class Refresher {
  /** @param {{audit, review, state, figures}} parts AuditLog, ReviewQueue, RoomState, Figures */
  constructor({ audit, review, state, figures }) {
    Object.assign(this, { audit, review, state, figures });
    this.timer = null;
    this.stateToo = false;
  }

  /** Something moderation-related happened: re-read the audit log (and the state) shortly. */
  changed({ state = false } = {}) {
    this.stateToo ||= state;
    if (this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.audit.refresh();
      if (this.stateToo) this.state.refresh();
      this.stateToo = false;
    }, EVENT_REFRESH_DELAY_MS);
  }

  /** Room events arrived: those that change the log or the state have them re-read. */
  eventsArrived(events) {
    const audited = events.some((event) => AUDITED_KINDS.has(event.kind));
    if (audited) this.changed({ state: events.some((event) => STATE_KINDS.has(event.kind)) });
  }

  /** Re-read everything (the page opened, or came back into view). */
  all() {
    this.state.refresh();
    this.review.refresh();
    this.figures.refresh();
    this.audit.refresh();
  }

  /** Keep the polled parts fresh from now on. */
  poll() {
    setInterval(() => this.review.refresh(), REVIEW_REFRESH_MS);
    setInterval(() => {
      this.figures.refresh();
      this.state.tick();
    }, STATS_REFRESH_MS);
    setInterval(() => this.state.refresh(), STATE_REFRESH_MS);
  }
}
