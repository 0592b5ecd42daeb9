// What the room's rules mean for the person looking at the room page, kept current from the
// room's events: a timeout or ban of theirs (with its reason and end), who may post (the posting
// mode) and slow mode with the wait after each post. No DOM here (room-notice.js shows it), so
// Node's tests drive it with a clock of their own. Its sentences are in the page's language.

import { gettext, interpolate } from "./i18n.js";

/** Whole seconds from `now` (ms) until `untilMs`, at least 1 while any time is left, else 0. */
export function secondsLeft(untilMs, now) {
  return untilMs > now ? Math.max(1, Math.ceil((untilMs - now) / 1000)) : 0;
}

/** "45 s", "3 min 20 s", "2 h 5 min": how long a countdown has to go. */
export function formatWait(seconds) {
  if (seconds < 60) return interpolate(gettext("%(s)s s"), { s: seconds });
  if (seconds < 3600) {
    const rest = seconds % 60;
    const m = Math.floor(seconds / 60);
    return rest ? interpolate(gettext("%(m)s min %(s)s s"), { m, s: rest }) : interpolate(gettext("%(m)s min"), { m });
  }
  const minutes = Math.floor((seconds % 3600) / 60);
  const h = Math.floor(seconds / 3600);
  return minutes ? interpolate(gettext("%(h)s h %(m)s min"), { h, m: minutes }) : interpolate(gettext("%(h)s h"), { h });
}

function withReason(sentence, reason) {
  return reason ? interpolate(gettext("%(sentence)s Reason: %(reason)s"), { sentence, reason }) : sentence;
}

function sanctionFrom({ sanction, until, reason }) {
  const untilMs = until ? Date.parse(until) : null;
  return { kind: sanction === "ban" ? "ban" : "timeout", untilMs: Number.isNaN(untilMs) ? null : untilMs, reason: reason || "" };
}

export class RoomRules {
  /**
   * @param {{meId?: number|null, settings?: object, moderates?: boolean, sanction?: object|null}} standing
   *   what the page was rendered with (chat/domain/moderation/standing.py)
   */
  constructor({ meId = null, settings = {}, moderates = false, sanction = null } = {}) {
    this.meId = meId;
    this.moderates = Boolean(moderates);
    this.posting = settings.posting ?? "open";
    this.slowModeSeconds = Number(settings.slow_mode_seconds ?? 0);
    this.uniqueChatSeconds = settings.unique_chat ? Number(settings.unique_chat_seconds ?? 30) : 0;
    this.chatDelaySeconds = Number(settings.chat_delay_seconds ?? 0);
    this.sanction = sanction ? sanctionFrom(sanction) : null;
    this.nextPostMs = 0; // slow mode: no post of ours before then
  }

  /** Follow the room's events; true when something shown here changed. */
  apply(events) {
    let changed = false;
    for (const event of events) {
      if (event.kind === "settings" && event.settings) {
        if ("posting" in event.settings) this.posting = event.settings.posting;
        if ("slow_mode_seconds" in event.settings) this.slowModeSeconds = Number(event.settings.slow_mode_seconds);
        if ("chat_delay_seconds" in event.settings) this.chatDelaySeconds = Number(event.settings.chat_delay_seconds);
        if ("unique_chat" in event.settings) {
          this.uniqueChatSeconds = event.settings.unique_chat ? Number(event.settings.unique_chat_seconds ?? 30) : 0;
        }
        changed = true;
      } else if (event.kind === "ban" && this._isMe(event.user)) {
        this.sanction = sanctionFrom(event);
        changed = true;
      } else if (event.kind === "unban" && this._isMe(event.user)) {
        this.sanction = null;
        changed = true;
      }
    }
    return changed;
  }

  /** Our post was taken at `now`: slow mode makes the next one wait. */
  posted(now) {
    if (this.slowModeSeconds > 0 && !this.moderates) this.nextPostMs = now + this.slowModeSeconds * 1000;
  }

  /** Our post was refused (a RoomError): learn what the server knows better than we did. */
  refused(error, now) {
    if (error.code === "muted") {
      this.sanction = sanctionFrom({ sanction: "timeout", until: error.until, reason: error.reason });
      if (this.sanction.untilMs === null && error.retry_after) this.sanction.untilMs = now + error.retry_after * 1000;
      return true;
    }
    if (error.code === "banned") {
      this.sanction = sanctionFrom({ sanction: "ban", reason: error.reason });
      return true;
    }
    if (error.code === "slow_mode" && error.retry_after) {
      this.nextPostMs = now + error.retry_after * 1000;
      return true;
    }
    if (error.code === "moderators_only") {
      this.posting = "moderators";
      return true;
    }
    return false;
  }

  /**
   * Why the composer is closed at `now`, or null when it is open:
   * {code: "banned"|"muted"|"moderators_only"|"slow_mode", text, seconds?} (seconds: a countdown).
   */
  block(now) {
    const sanction = this.sanction;
    if (sanction?.kind === "ban") {
      return { code: "banned", text: withReason(gettext("You are banned from this room."), sanction.reason) };
    }
    if (sanction?.kind === "timeout") {
      const seconds = sanction.untilMs === null ? 0 : secondsLeft(sanction.untilMs, now);
      if (seconds > 0) {
        const sentence = interpolate(gettext("You are timed out: you can post again in %(wait)s."), {
          wait: formatWait(seconds),
        });
        return { code: "muted", seconds, text: withReason(sentence, sanction.reason) };
      }
      this.sanction = null; // it ran out
    }
    if (this.posting === "moderators" && !this.moderates) {
      return { code: "moderators_only", text: gettext("Only moderators can post in this room right now.") };
    }
    const wait = this.moderates ? 0 : secondsLeft(this.nextPostMs, now);
    if (wait > 0) {
      const text = interpolate(gettext("Slow mode: you can post again in %(wait)s."), { wait: formatWait(wait) });
      return { code: "slow_mode", seconds: wait, text };
    }
    return null;
  }

  /** The label of the room's posting rules ("" when there is nothing to say). */
  modeLabel() {
    const parts = [];
    if (this.posting === "moderators") parts.push(gettext("Announcements: only moderators post"));
    if (this.slowModeSeconds > 0) {
      const rule = this.moderates
        ? gettext("Slow mode: one message every %(wait)s (not for you: you moderate)")
        : gettext("Slow mode: one message every %(wait)s");
      parts.push(interpolate(rule, { wait: formatWait(this.slowModeSeconds) }));
    }
    if (this.uniqueChatSeconds > 0) {
      const rule = gettext("Unique chat: nothing anyone said in the last %(wait)s");
      parts.push(interpolate(rule, { wait: formatWait(this.uniqueChatSeconds) }));
    }
    if (this.chatDelaySeconds > 0) {
      const rule = this.moderates
        ? gettext("Chat delay: messages appear %(wait)s after they are sent (not for you: you moderate)")
        : gettext("Chat delay: messages appear %(wait)s after they are sent");
      parts.push(interpolate(rule, { wait: formatWait(this.chatDelaySeconds) }));
    }
    return parts.join(" · ");
  }

  _isMe(user) {
    return this.meId !== null && user !== null && user !== undefined && user.id === this.meId;
  }
}
