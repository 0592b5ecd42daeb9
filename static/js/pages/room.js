// The room page: the room's messages, live, who is online, and the composer for signed-in users.
// ?transport=ws|sse|poll forces one transport (no fallback), for people and tests.
// What moderation does to the viewer shows too: their timeout or ban (with its reason and a
// countdown), slow mode and the posting mode, their messages held for review, and the lines
// deleted messages and clears leave (docs/PROTOCOL.md "Moderation you can see").

import { CallRoster } from "../call/roster.js";
import { gettext, interpolate } from "../ui/i18n.js";
import { LiveRoom } from "../ui/live-room.js";
import { MessageList } from "../ui/messages.js";
import { PinnedMessage } from "../ui/pinned.js";
import { ReplyDraft } from "../ui/replies.js";
import { ReportForm } from "../ui/report.js";
import { renderPresence } from "../ui/presence.js";
import { RoomNotice } from "../ui/room-notice.js";
import { RoomRules } from "../ui/room-rules.js";

const root = document.getElementById("room");
const part = (role) => root.querySelector(`[data-role="${role}"]`);
const slug = root.dataset.slug;
const meId = root.dataset.meId ? Number(root.dataset.meId) : null;
const meName = root.dataset.meName || null;
const standing = JSON.parse(document.getElementById("room-standing").textContent);

const reportForm = part("report-form"); // only for signed-in users
const reports =
  reportForm &&
  new ReportForm(
    {
      form: reportForm,
      quote: part("report-quote"),
      reason: part("report-reason"),
      status: part("report-status"),
      cancel: part("report-cancel"),
    },
    { url: root.dataset.reportUrl, meId },
  );
const composer = part("composer"); // only for signed-in users
const replies =
  composer &&
  new ReplyDraft({
    bar: part("reply-bar"),
    label: part("reply-label"),
    cancel: part("reply-cancel"),
    input: part("input"),
  });
// Older history loaded to reach a reply's parent, at most this many pages per click.
const PARENT_PAGES = 5;
let live = null;
const messages = new MessageList(part("messages"), part("scroll"), {
  decorate: (item, event) => {
    replies?.decorate(item, event);
    reports?.decorate(item, event);
  },
  onMissingParent: async (parent) => {
    const older = part("load-older");
    for (let page = 0; page < PARENT_PAGES && !messages.byId.has(parent.id); page += 1) {
      if (older.hidden || messages.oldestSeq === null || messages.oldestSeq <= parent.seq) break;
      await live.loadOlder();
    }
  },
  meId,
  meName,
  newBelow: part("new-below"),
  empty: part("empty"),
  pending: part("pending"),
  removedDisplay: standing.settings.removed_display ?? "placeholder",
});
for (const held of standing.held) messages.addPending(held.held_id, held.text, held.decision, held.release_at ?? null);
const presence = { count: part("online-count"), users: part("online-users"), guests: part("online-guests") };
const notice = new RoomNotice(new RoomRules({ meId, ...standing }), {
  notice: part("room-notice"),
  label: part("room-mode"),
  input: composer && part("input"),
  send: composer && composer.querySelector('button[type="submit"]'),
});
notice.render();
const pinned = new PinnedMessage(part("pinned"));

live = new LiveRoom({
  slug,
  historyUrl: root.dataset.historyUrl || `/rooms/${encodeURIComponent(slug)}/history`,
  list: messages,
  state: root.querySelector('[data-testid="connection-state"]'),
  loadOlder: part("load-older"),
  composer: composer && {
    form: composer,
    input: part("input"),
    error: part("send-error"),
    noun: "message",
    charsLeft: part("chars-left"),
    frame: (text) => ({ type: "message", text, ...replies.fields() }),
    onSent: (answer, text) => {
      replies.cancel();
      if (answer?.held) messages.addPending(answer.held_id, text, "pending", answer.delayed ? answer.release_at : null);
      if (answer?.private) messages.addPending(answer.held_id, text, "private");
      notice.posted();
      messages.scrollToBottom();
    },
    onRefused: (problem) => notice.refused(problem),
  },
  onEvents: (events) => {
    for (const event of events) if (event.kind === "delete") replies?.forget(event.target);
    notice.events(events);
    pinned.apply(events);
  },
  onLatest: (page) => pinned.show(page.pinned ?? null),
  onPresence: (counts) => renderPresence(presence, counts),
});
const client = await live.start();

// How many are in the room's call, beside the link to it (over WebSocket only).
const callCount = part("call-count");
const roster = new CallRoster();
client.on("call", (frame) => {
  if (frame.type !== "call.roster" || roster.apply(frame) === null) return;
  callCount.hidden = roster.size === 0;
  callCount.textContent = interpolate(gettext(" (%(count)s in the call)"), { count: roster.size });
});
