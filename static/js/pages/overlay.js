// The overlay page: a transparent, read-only view of a room for an OBS browser source.
//
// It listens over SSE only: RoomClient on the SSE transport, which resumes from its cursor by
// itself after a drop, with the ?key= of the owner's overlay address so that a private room
// lets it in. Comments show as they arrive, on the wall clock, with the options of the page's
// URL (validated by the server and handed over as JSON): speed, opacity, scale, area, density
// (comments on screen at most), fps (frame-rate cap), and chat (a chat list instead of flying
// comments).

import { RoomClient } from "../client/realtime.js";
import { sseTransport } from "../client/sse.js";
import { WallClock } from "../danmaku/clock.js";
import { exposeRenderer } from "../danmaku/debug.js";
import { DanmakuRenderer } from "../danmaku/renderer.js";
import { MessageList } from "../ui/messages.js";

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
const client = new RoomClient(slug, { transports: [sseTransport], params: overlayKey ? { key: overlayKey } : {} });
client.on("state", ({ state }) => {
  root.dataset.state = state;
});
client.on("notice", (error) => console.warn("overlay:", error.code, error.message));

if (options.chat) {
  const list = root.querySelector('[data-role="messages"]');
  const messages = new MessageList(list, list.parentElement);
  client.on("events", ({ events }) => {
    messages.apply(events);
    messages.keepNewest(CHAT_LINES);
    messages.scrollToBottom();
  });
  client.on("reset", () => messages.reset());
} else {
  const renderer = new DanmakuRenderer(root.querySelector('[data-role="canvas"]'), {
    clock: new WallClock(),
    density: options.density ?? 120,
    fps: options.fps ?? 60,
    view: { speed: options.speed, opacity: options.opacity, scale: options.scale, area: options.area },
  });
  client.on("events", ({ events }) => renderer.apply(events));
  exposeRenderer(renderer, { options: () => ({ ...options }) });
}

client.connect();
