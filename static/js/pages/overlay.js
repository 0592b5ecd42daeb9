// The overlay page: a transparent, read-only view of a room for an OBS browser source.
//
// It listens over SSE only: RoomClient on the SSE transport, which resumes from its cursor by
// itself after a drop, with the ?key= of the owner's overlay address so that a private room
// lets it in. Comments show as they arrive, on the wall clock, with the options of the page's
// URL (validated by the server and handed over as JSON): speed, opacity, scale, area, density
// (comments on screen at most), fps (frame-rate cap), chat (a chat list instead of flying
// comments, starting with the latest `history` messages) and delay (seconds every comment and
// message is held back, so a moderator's delete lands before the stream's audience sees it).

import { RoomClient } from "../client/realtime.js";
import { sseTransport } from "../client/sse.js";
import { WallClock } from "../danmaku/clock.js";
import { DelayQueue } from "../danmaku/delay-queue.js";
import { exposeRenderer } from "../danmaku/debug.js";
import { DanmakuRenderer } from "../danmaku/renderer.js";
import { MessageList } from "../ui/messages.js";
import { PinnedMessage } from "../ui/pinned.js";

// The chat list keeps the newest this many lines; older ones scroll off for good.
const CHAT_LINES = 60;

const root = document.getElementById("overlay");
const slug = root.dataset.slug;

function readOptions() {
  try {
    return JSON.parse(document.getElementById("overlay-options").textContent) ?? {};
  } catch {
    return {};
  }
}

const options = readOptions();
const overlayKey = new URLSearchParams(window.location.search).get("key");
// A private room admits an overlay that carries the room's overlay key (OBS has no session).
/** The latest `count` messages for the chat list (none when the option is 0 or the load fails). */
async function latestMessages(count) {
  if (!count) return null;
  const params = new URLSearchParams({ limit: String(count) });
  if (overlayKey) params.set("key", overlayKey);
  try {
    const answer = await fetch(`${root.dataset.historyUrl}?${params}`, { headers: { Accept: "application/json" } });
    return answer.ok ? await answer.json() : null;
  } catch {
    return null;
  }
}

async function start() {
  // The chat list asks even with no history wanted: the answer also names the pinned message.
  const wanted = options.history ?? 0;
  const page = options.chat ? await latestMessages(Math.max(1, wanted)) : null;
  if (page && wanted === 0) page.events = [];
  // A private room admits an overlay that carries the room's overlay key (OBS has no session).
  const client = new RoomClient(slug, {
    transports: [sseTransport],
    params: overlayKey ? { key: overlayKey } : {},
    after: page ? page.last_seq : null,
    epoch: page ? page.epoch : null,
  });
  client.on("state", ({ state }) => {
    root.dataset.state = state;
  });
  client.on("notice", (error) => console.warn("overlay:", error.code, error.message));

  let show;
  let reset;
  if (options.chat) {
    const list = root.querySelector('[data-role="messages"]');
    const messages = new MessageList(list, list.parentElement, { links: false });
    const pinned = new PinnedMessage(root.querySelector('[data-role="pinned"]'));
    pinned.show(page?.pinned ?? null);
    show = (events) => {
      messages.apply(events);
      pinned.apply(events);
      messages.keepNewest(CHAT_LINES);
      messages.scrollToBottom();
    };
    reset = () => messages.reset();
    if (page) show(page.events); // already past any delay: shown at once
  } else {
    const renderer = new DanmakuRenderer(root.querySelector('[data-role="canvas"]'), {
      clock: new WallClock(),
      density: options.density ?? 120,
      fps: options.fps ?? 60,
      view: { speed: options.speed, opacity: options.opacity, scale: options.scale, area: options.area },
    });
    show = (events) => renderer.apply(events);
    reset = () => renderer.reset();
    exposeRenderer(renderer, { options: () => ({ ...options }) });
  }
  const queue = new DelayQueue((options.delay ?? 0) * 1000, show);
  client.on("events", ({ events }) => queue.push(events));
  client.on("reset", () => {
    queue.reset();
    reset();
  });
  client.connect();
}

start();
