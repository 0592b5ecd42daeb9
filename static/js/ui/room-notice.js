// The room page's notice and mode label: shows RoomRules' (room-rules.js) reason the composer
// is closed, with a countdown ticking once a second, and closes the composer (input and send
// button) until it ends; the label names slow mode and the posting mode.

const TICK_MS = 1000;

export class RoomNotice {
  /**
   * @param {RoomRules} rules
   * @param {{notice: HTMLElement, label: HTMLElement, input?: HTMLElement|null, send?: HTMLElement|null}} parts
   * @param {{now?: () => number}} [options]
   */
  constructor(rules, { notice, label, input = null, send = null }, { now = () => Date.now() } = {}) {
    Object.assign(this, { rules, notice, label, input, send, now });
    this.timer = null;
  }

  /** Show what the rules say now, and keep counting down while there is a wait. */
  render() {
    clearTimeout(this.timer);
    this.timer = null;
    const modeText = this.rules.modeLabel();
    this.label.textContent = modeText;
    this.label.hidden = modeText === "";
    const block = this.rules.block(this.now());
    this.notice.hidden = block === null;
    this.notice.textContent = block ? block.text : "";
    this.notice.dataset.code = block ? block.code : "";
    for (const control of [this.input, this.send]) if (control) control.disabled = block !== null;
    if (block?.seconds) this.timer = setTimeout(() => this.render(), TICK_MS);
  }

  events(events) {
    if (this.rules.apply(events)) this.render();
  }

  posted() {
    this.rules.posted(this.now());
    this.render();
  }

  refused(error) {
    if (this.rules.refused(error, this.now())) this.render();
  }
}
