// The moderator's actions on a message or a user: Delete, Time out and Ban on the feed's lines
// and by name, and Lift on a sanction. The reason typed beside the feed goes with the next
// action (and is cleared once used); the outcome or the failure goes to the notice line.

import { gettext, interpolate, ngettext } from "../ui/i18n.js";
import { busy, formatDuration, formatNumber } from "./dom.js";

/** The reason typed beside the feed: it goes with the next action, and is cleared once used. */
export class ReasonField {
  constructor(input) {
    this.input = input;
  }

  /** The reason as a request field ({} when none was typed). */
  take() {
    const reason = this.input.value.trim();
    return reason ? { reason } : {};
  }

  /** The action with `field` was done: clear the reason, unless it was edited meanwhile. */
  used(field) {
    if (field.reason !== undefined && this.input.value.trim() === field.reason) this.input.value = "";
  }
}

/** What a pin says it did: by whom the message was, for how long. */
export function pinnedText(author, seconds) {
  if (author === null) {
    return seconds
      ? interpolate(gettext("Pinned the message for %(length)s."), { length: formatDuration(seconds) })
      : gettext("Pinned the message.");
  }
  return seconds
    ? interpolate(gettext("Pinned the message by %(name)s for %(length)s."), {
        name: author,
        length: formatDuration(seconds),
      })
    : interpolate(gettext("Pinned the message by %(name)s."), { name: author });
}

/** A sanction's outcome `done`, and how many of the user's messages it removed. */
export function withRemoved(done, removed) {
  return interpolate(
    ngettext("%(done)s %(count)s of their messages removed.", "%(done)s %(count)s of their messages removed.", removed),
    { done, count: formatNumber(removed) },
  );
}

export class ModActions {
  /**
   * @param {{reason: ReasonField, duration: HTMLSelectElement, purge?: HTMLInputElement|null,
   *          sanctions: HTMLElement, sanctionForm: HTMLFormElement}} parts
   *   purge: checked, a timeout or ban also removes the user's recent messages (one event)
   * @param {{api: import("./api.js").ModApi, notice: import("./notice.js").Notice,
   *          feed: import("./feed.js").ModerationFeed, refresher: import("./refresher.js").Refresher,
   *          state: import("./room-state.js").RoomState}} services
   */
  constructor(parts, { api, notice, feed, refresher, state }) {
    Object.assign(this, { parts, api, notice, feed, refresher, state });
    parts.sanctions.addEventListener("click", (click) => {
      const control = click.target instanceof Element ? click.target.closest('button[data-action="lift"]') : null;
      const item = control ? control.closest("li[data-name]") : null;
      if (item) this.lift(item.dataset.name, control);
    });
    parts.sanctionForm.addEventListener("submit", async (submit) => {
      submit.preventDefault();
      const form = submit.currentTarget;
      const user = form.elements.user.value.trim();
      if (!user) return;
      const control = submit.submitter ?? form.querySelector("button");
      let done;
      if (control.value === "hide") done = await this.hideUser(user, control);
      else done = control.value === "ban" ? await this.ban(user, control) : await this.timeOut(user, control);
      if (done) form.elements.user.value = "";
    });
  }

  /** A button on a line of the feed: "delete", "pin", "timeout" or "ban", with the line's event. */
  onFeedAction(action, event, control) {
    if (action === "delete") this.deleteMessage(event, control);
    else if (action === "pin") this.pin(event, control);
    else if (action === "timeout" && event.user) this.timeOut(event.user.name, control);
    else if (action === "ban" && event.user) this.ban(event.user.name, control);
  }

  async deleteMessage(event, control) {
    const field = this.parts.reason.take();
    try {
      await busy(control, () => this.api.post("delete", { id: event.id, ...field }));
      this.feed.remove(event.id);
      this.parts.reason.used(field);
      this.notice.show(
        event.user
          ? interpolate(gettext("Deleted the message by %(name)s."), { name: event.user.name })
          : gettext("Deleted the message."),
      );
      this.refresher.changed();
    } catch (error) {
      if (error.code === "already_deleted") this.feed.remove(event.id);
      this.notice.error(error, gettext("Could not delete the message"));
    }
  }

  /** Pin the line's message, for the "Pin for" length (or until unpinned). */
  async pin(event, control) {
    const seconds = this.parts.pinLength?.value ? Number(this.parts.pinLength.value) : null;
    try {
      await busy(control, () => this.api.post("pin", { id: event.id, seconds }));
      this.notice.show(pinnedText(event.user?.name ?? null, seconds));
      this.refresher.changed();
    } catch (error) {
      this.notice.error(error, gettext("Could not pin the message"));
    }
  }

  async unpin(control) {
    try {
      await busy(control, () => this.api.post("unpin", {}));
      this.notice.show(gettext("Unpinned the message."));
      this.refresher.changed();
    } catch (error) {
      this.notice.error(error, gettext("Could not unpin the message"));
    }
  }

  /** Hide a user (their posts kept from everyone but them and moderators); true when done. */
  async hideUser(user, control) {
    const field = this.parts.reason.take();
    try {
      await busy(control, () => this.api.post("hide", { user, ...field }));
      this.parts.reason.used(field);
      this.notice.show(
        interpolate(gettext("%(name)s is hidden: only they and moderators see their new messages."), { name: user }),
      );
      this.refresher.changed({ state: true });
      return true;
    } catch (error) {
      this.notice.error(error, interpolate(gettext("Could not hide %(name)s"), { name: user }));
      return false;
    }
  }

  async unhideUser(user, control) {
    try {
      await busy(control, () => this.api.post("unhide", { user }));
      this.notice.show(interpolate(gettext("%(name)s is no longer hidden."), { name: user }));
      this.refresher.changed({ state: true });
    } catch (error) {
      this.notice.error(error, interpolate(gettext("Could not unhide %(name)s"), { name: user }));
    }
  }

  timeOut(user, control) {
    const seconds = Number(this.parts.duration.value);
    return this._sanction("timeout", { user, seconds }, control, {
      done: interpolate(gettext("%(name)s is timed out for %(length)s."), { name: user, length: formatDuration(seconds) }),
      failed: interpolate(gettext("Could not time out %(name)s"), { name: user }),
    });
  }

  ban(user, control) {
    return this._sanction("ban", { user }, control, {
      done: interpolate(gettext("%(name)s is banned from the room."), { name: user }),
      failed: interpolate(gettext("Could not ban %(name)s"), { name: user }),
    });
  }

  async lift(user, control) {
    try {
      await busy(control, () => this.api.post("unban", { user }));
      this.notice.show(interpolate(gettext("%(name)s may post again."), { name: user }));
      this.refresher.changed({ state: true });
    } catch (error) {
      this.notice.error(error, interpolate(gettext("Could not lift the sanction of %(name)s"), { name: user }));
      if (error.code === "not_found") this.state.refresh(); // it ran out, or someone lifted it first
    }
  }

  /** A timeout or ban with the typed reason (and the purge, when ticked); true when it was done. */
  async _sanction(endpoint, body, control, { done, failed }) {
    const field = this.parts.reason.take();
    const purge = this.parts.purge?.checked ? { purge: true } : {};
    try {
      const answer = await busy(control, () => this.api.post(endpoint, { ...body, ...field, ...purge }));
      this.parts.reason.used(field);
      const removed = Array.isArray(answer?.removed) ? answer.removed.length : null;
      this.notice.show(removed === null ? done : withRemoved(done, removed));
      this.refresher.changed({ state: true });
      return true;
    } catch (error) {
      this.notice.error(error, failed);
      return false;
    }
  }
}
