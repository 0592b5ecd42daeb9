// The overlay's safety delay (?delay=SECONDS): every comment and message is held back that long,
// so a moderator's delete or clear lands before a stream's audience ever sees it. Deletes and
// clears are never held: they drop what is still waiting and pass at once (for anything shown).
// No DOM: tests/js runs it in Node with a clock of its own.

// Events held at most (at a few hundred a second, a delay of a minute or two): past it the
// oldest go out early rather than memory growing without bound.
export const HELD_MAX = 20_000;

export class DelayQueue {
  /**
   * @param {number} delayMs how long each event waits
   * @param {(events: object[]) => void} deliver receives events when they are due
   * @param {{now?: () => number, setTimer?: (fn: () => void, ms: number) => unknown,
   *          clearTimer?: (timer: unknown) => void}} [clock]
   */
  constructor(
    delayMs,
    deliver,
    // Arrow functions: the browser's timers refuse to be called as a method of this object.
    { now = () => Date.now(), setTimer = (fn, ms) => setTimeout(fn, ms), clearTimer = (t) => clearTimeout(t) } = {},
  ) {
    this.delayMs = delayMs;
    this.deliver = deliver;
    this.now = now;
    this.setTimer = setTimer;
    this.clearTimer = clearTimer;
    this.held = []; // {due, event}, oldest first
    this.timer = null;
  }

  /** Events from the stream, in order. */
  push(events) {
    if (this.delayMs <= 0) {
      this.deliver(events);
      return;
    }
    const now = this.now();
    const immediate = [];
    for (const event of events) {
      if (event.kind === "delete") {
        this.held = this.held.filter((item) => item.event.id !== event.target);
        immediate.push(event);
      } else if (event.kind === "clear") {
        this.held = this.held.filter((item) => item.event.seq > event.seq);
        immediate.push(event);
      } else {
        this.held.push({ due: now + this.delayMs, event });
      }
    }
    const early = this.held.length > HELD_MAX ? this.held.splice(0, this.held.length - HELD_MAX) : [];
    const out = [...early.map((item) => item.event), ...immediate];
    if (out.length) this.deliver(out);
    this._schedule();
  }

  /** Forget everything waiting (the stream was reset). */
  reset() {
    this.held = [];
    this._schedule();
  }

  /** Deliver what is due; called by the timer. */
  flush() {
    this.timer = null;
    const now = this.now();
    let count = 0;
    while (count < this.held.length && this.held[count].due <= now) count += 1;
    if (count) this.deliver(this.held.splice(0, count).map((item) => item.event));
    this._schedule();
  }

  _schedule() {
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = null;
    if (!this.held.length) return;
    this.timer = this.setTimer(() => this.flush(), Math.max(0, this.held[0].due - this.now()));
  }
}
