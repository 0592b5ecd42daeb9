// The room page: history first, then the live feed from its last seq, plus posting.
// ?transport=ws|sse|poll forces one transport (no fallback), for people and tests.

import { Backoff } from "../client/backoff.js";
import { MessageList } from "../ui/messages.js";
import { renderPresence } from "../ui/presence.js";
import { RoomClient } from "../client/realtime.js";
import { showConnectionState } from "../ui/state-label.js";
import { transportsFor } from "../client/transport.js";

const HISTORY_PAGE = 50;
const HISTORY_ATTEMPTS = 5;

const root = document.getElementById("room");
const slug = root.dataset.slug;
const historyUrl = root.dataset.historyUrl || `/rooms/${encodeURIComponent(slug)}/history`;
const meId = root.dataset.meId ? Number(root.dataset.meId) : null;
const part = (role) => root.querySelector(`[data-role="${role}"]`);

const stateLabel = root.querySelector('[data-testid="connection-state"]');
const loadOlderButton = part("load-older");
const emptyNote = part("empty");
const composer = part("composer");
const input = part("input");
const sendError = part("send-error");
const presenceParts = {
  count: part("online-count"),
  users: part("online-users"),
  guests: part("online-guests"),
};

const messages = new MessageList(part("messages"), part("scroll"), {
  meId,
  onChange: () => {
    emptyNote.hidden = messages.size > 0;
  },
});

class HistoryError extends Error {}

async function fetchHistory({ before = null } = {}) {
  const params = new URLSearchParams({ limit: String(HISTORY_PAGE) });
  if (before !== null) params.set("before", String(before));
  const response = await fetch(`${historyUrl}?${params}`, {
    headers: { Accept: "application/json" },
    credentials: "same-origin",
  });
  if (!response.ok) throw new HistoryError(`history: HTTP ${response.status}`);
  return response.json();
}

async function fetchHistoryRetrying() {
  const backoff = new Backoff();
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetchHistory();
    } catch (error) {
      if (attempt >= HISTORY_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250 + backoff.next()));
    }
  }
}

function showHasMore(hasMore) {
  loadOlderButton.hidden = !hasMore;
  loadOlderButton.disabled = false;
}

// Connection state.


function showState(event) {
  showConnectionState(stateLabel, event);
}

// Posting.

function describeSendError(error) {
  switch (error.code) {
    case "login_required":
      return "Log in to post.";
    case "empty":
      return "The message is empty.";
    case "too_long":
      return error.limit ? `Message too long: the limit is ${error.limit} characters.` : "Message too long.";
    case "rate_limited":
      return error.retry_after
        ? `You are sending too fast; try again in ${Math.ceil(error.retry_after)} s.`
        : "You are sending too fast; wait a moment.";
    case "muted":
      return error.until
        ? `You are timed out in this room until ${new Date(error.until).toLocaleTimeString()}.`
        : "You are timed out in this room.";
    case "banned":
      return "You are banned from this room.";
    case "slow_mode":
      return `Slow mode is on: you can post again in ${Math.ceil(error.retry_after || 1)} s.`;
    case "duplicate":
      return "You just sent that message.";
    case "moderators_only":
      return "Only moderators can post in this room right now.";
    case "blocked":
      return "This room does not allow that message.";
    case "private_room":
      return "This room is private.";
    case "not_connected":
    case "disconnected":
      return "Not connected: the message was not sent. Try again in a moment.";
    case "timeout":
      return "No answer from the server: the message may not have been sent.";
    default:
      return error.message || "The message could not be sent.";
  }
}

function showSendError(error) {
  if (error === null) {
    sendError.hidden = true;
    sendError.replaceChildren();
    return;
  }
  sendError.textContent = describeSendError(error);
  if (error.code === "login_required") {
    const link = document.createElement("a");
    link.href = `/accounts/login/?next=${encodeURIComponent(window.location.pathname)}`;
    link.textContent = "Log in";
    sendError.append(" ", link);
  }
  sendError.hidden = false;
}

function wireComposer(client) {
  if (!composer) return;
  let sending = false;
  composer.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value;
    if (sending || text.trim() === "") return;
    sending = true;
    composer.setAttribute("aria-busy", "true");
    try {
      const answer = await client.send(text);
      showSendError(answer && answer.held ? { code: "held", message: answer.message } : null);
      if (input.value === text) input.value = "";
      messages.scrollToBottom();
    } catch (error) {
      showSendError(error);
    } finally {
      sending = false;
      composer.removeAttribute("aria-busy");
      input.focus();
    }
  });
  input.addEventListener("input", () => {
    if (!sendError.hidden) showSendError(null);
  });
}

// History and the live feed.

let resetToken = 0;

async function reloadLatest() {
  const token = ++resetToken;
  messages.reset();
  loadOlderButton.hidden = true;
  try {
    const page = await fetchHistoryRetrying();
    if (token !== resetToken) return;
    messages.addHistory(page.events);
    showHasMore(page.has_more);
    messages.scrollToBottom();
  } catch (error) {
    console.error(error);
  }
}

async function loadOlder() {
  const before = messages.oldestSeq;
  if (before === null) return;
  loadOlderButton.disabled = true;
  try {
    const page = await fetchHistory({ before });
    messages.addHistory(page.events, { older: true });
    showHasMore(page.has_more);
  } catch (error) {
    console.error(error);
    loadOlderButton.disabled = false;
  }
}

async function start() {
  let after = null;
  try {
    const page = await fetchHistoryRetrying();
    messages.addHistory(page.events);
    showHasMore(page.has_more);
    messages.scrollToBottom();
    after = page.last_seq;
  } catch (error) {
    console.error("could not load history; starting live", error);
  }
  emptyNote.hidden = messages.size > 0;

  const transports = transportsFor(new URLSearchParams(window.location.search).get("transport"));
  const client = new RoomClient(slug, { after, transports });
  client.on("state", showState);
  client.on("events", ({ events }) => {
    messages.apply(events);
    if (events.some((event) => event.kind === "clear")) loadOlderButton.hidden = true;
  });
  client.on("presence", (presence) => renderPresence(presenceParts, presence));
  client.on("reset", () => reloadLatest());
  client.on("notice", (error) => console.warn("room:", error.code, error.message));
  loadOlderButton.addEventListener("click", loadOlder);
  wireComposer(client);
  client.connect();
}

start();
