// The room page: the room's messages, live, who is online, and the composer for signed-in users.
// ?transport=ws|sse|poll forces one transport (no fallback), for people and tests.

import { CallRoster } from "../call/roster.js";
import { LiveRoom } from "../ui/live-room.js";
import { MessageList } from "../ui/messages.js";
import { renderPresence } from "../ui/presence.js";

const root = document.getElementById("room");
const part = (role) => root.querySelector(`[data-role="${role}"]`);
const slug = root.dataset.slug;

const messages = new MessageList(part("messages"), part("scroll"), {
  meId: root.dataset.meId ? Number(root.dataset.meId) : null,
  empty: part("empty"),
});
const presence = { count: part("online-count"), users: part("online-users"), guests: part("online-guests") };
const composer = part("composer"); // only for signed-in users

const client = await new LiveRoom({
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
    frame: (text) => ({ type: "message", text }),
    onSent: () => messages.scrollToBottom(),
  },
  onPresence: (counts) => renderPresence(presence, counts),
}).start();

// How many are in the room's call, beside the link to it (over WebSocket only).
const callCount = part("call-count");
const roster = new CallRoster();
client.on("call", (frame) => {
  if (frame.type !== "call.roster" || roster.apply(frame) === null) return;
  callCount.hidden = roster.size === 0;
  callCount.textContent = ` (${roster.size} in the call)`;
});
