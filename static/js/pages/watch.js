// The watch page: the video with comments flying over it, the room's chat beside it, a bar to
// post comments in a chosen style, and the viewer's settings.
//
// Recorded video (a video that is not live): the renderer follows the <video>'s position
// (VideoClock) and the comments are loaded by time window as playback advances (timeline.js);
// a comment posted now carries the current position. Live (no video, or a live stream): the
// renderer runs on the wall clock and comments show as they arrive. Both take the room's
// stream (RoomClient) for the chat list, new comments, deletions and clears.
// ?transport=ws|sse|poll forces one transport, as on the room page.

import { Backoff } from "../client/backoff.js";
import { MessageList } from "../ui/messages.js";
import { RoomClient } from "../client/realtime.js";
import { showConnectionState } from "../ui/state-label.js";
import { transportsFor } from "../client/transport.js";
import { VideoClock, WallClock } from "../danmaku/clock.js";
import { exposeRenderer } from "../danmaku/debug.js";
import { DanmakuRenderer, MODES } from "../danmaku/renderer.js";
import { bindSettingsPanel } from "../danmaku/settings-panel.js";
import { SettingsStore } from "../danmaku/settings-store.js";
import { SIZES } from "../danmaku/sprites.js";
import { TimelineLoader } from "../danmaku/timeline.js";

// Comments on screen at most on the watch page (the overlay takes ?density=).
const WATCH_DENSITY = 150;
const HISTORY_PAGE = 50;
const HISTORY_ATTEMPTS = 5;
const STYLE_KEY = "danmaku:post-style";

const root = document.getElementById("watch");
const part = (role) => root.querySelector(`[data-role="${role}"]`);
const slug = root.dataset.slug;
const meId = root.dataset.meId ? Number(root.dataset.meId) : null;
const video = part("video");
const recorded = video !== null && root.dataset.recorded === "true";
const durationMs = root.dataset.durationMs ? Number(root.dataset.durationMs) : null;

function readJson(id) {
  const node = document.getElementById(id);
  if (!node) return null;
  try {
    return JSON.parse(node.textContent);
  } catch {
    return null;
  }
}

// Renderer and settings.

const store = new SettingsStore({
  saved: readJson("viewer-settings"),
  url: root.dataset.settingsUrl || null,
  signedIn: meId !== null,
});
const clock = recorded ? new VideoClock(video) : new WallClock();
const renderer = new DanmakuRenderer(part("canvas"), {
  clock,
  recorded,
  view: store.get(),
  density: WATCH_DENSITY,
  meId,
});
store.addEventListener("change", (event) => renderer.configure(event.detail));
bindSettingsPanel(part("settings"), store);

let loader = null;
if (recorded) {
  loader = new TimelineLoader({
    url: root.dataset.windowUrl,
    renderer,
    clock,
    durationMs,
    behindMs: () => renderer.longestLifetime(),
  });
  video.addEventListener("seeking", () => loader.update());
  loader.start();
}

exposeRenderer(renderer, {
  settings: () => store.get(),
  settingsState: () => store.state,
  recorded,
  windowRequests: () => (loader ? loader.requests : 0),
});

// The chat list.

const emptyNote = part("empty");
const messages = new MessageList(part("messages"), part("scroll"), {
  meId,
  onChange: () => {
    emptyNote.hidden = messages.size > 0;
  },
});

async function fetchHistory() {
  const backoff = new Backoff();
  const url = `${root.dataset.historyUrl}?limit=${HISTORY_PAGE}`;
  for (let attempt = 1; ; attempt++) {
    try {
      const response = await fetch(url, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (!response.ok) throw new Error(`history: HTTP ${response.status}`);
      return await response.json();
    } catch (error) {
      if (attempt >= HISTORY_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250 + backoff.next()));
    }
  }
}

// The connection state label.

const stateLabel = part("state");

function showState(event) {
  showConnectionState(stateLabel, event);
}

// Posting comments.

const SEND_ERRORS = {
  login_required: "Log in to post comments.",
  empty: "The comment is empty.",
  too_long: "Too long: comments are at most 100 characters.",
  invalid_mode: "That position is not available.",
  invalid_color: "That colour is not available.",
  invalid_size: "That size is not available.",
  invalid_video_ms: "The video position was refused; try again.",
  not_connected: "Not connected: the comment was not sent. Try again in a moment.",
  disconnected: "Not connected: the comment was not sent. Try again in a moment.",
  timeout: "No answer from the server: the comment may not have been sent.",
};

function describeSendError(error) {
  if (error.code === "rate_limited") {
    return error.retry_after
      ? `You are sending too fast; try again in ${Math.ceil(error.retry_after)} s.`
      : "You are sending too fast; wait a moment.";
  }
  return SEND_ERRORS[error.code] ?? (error.message || "The comment could not be sent.");
}

function loadStyle() {
  try {
    return JSON.parse(localStorage.getItem(STYLE_KEY)) ?? {};
  } catch {
    return {};
  }
}

function saveStyle(style) {
  try {
    localStorage.setItem(STYLE_KEY, JSON.stringify(style));
  } catch {
    // storage disabled: the style still applies on this page
  }
}

/** The position to post at: the video's, in whole ms within its length; null on live. */
function postPosition() {
  if (!recorded) return null;
  const position = Math.max(0, Math.round(video.currentTime * 1000));
  return durationMs === null ? position : Math.min(position, durationMs);
}

function wireComposer(client) {
  const composer = part("composer");
  if (!composer) return;
  const input = part("input");
  const mode = part("mode");
  const color = part("color");
  const size = part("size");
  const error = part("send-error");

  const saved = loadStyle();
  if (MODES.includes(saved.mode)) mode.value = saved.mode;
  if (SIZES.includes(saved.size)) size.value = saved.size;
  if (/^#[0-9a-f]{6}$/.test(saved.color ?? "")) color.value = saved.color;
  const remember = () => saveStyle({ mode: mode.value, size: size.value, color: color.value });
  for (const control of [mode, size, color]) control.addEventListener("change", remember);
  for (const swatch of composer.querySelectorAll("[data-color]")) {
    swatch.addEventListener("click", () => {
      color.value = swatch.dataset.color;
      remember();
    });
  }

  const showError = (problem) => {
    error.hidden = problem === null;
    error.textContent = problem === null ? "" : describeSendError(problem);
  };
  let sending = false;
  composer.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value;
    if (sending || text.trim() === "") return;
    sending = true;
    composer.setAttribute("aria-busy", "true");
    try {
      const answer = await client.sendFrame({
        type: "danmaku",
        text,
        mode: mode.value,
        color: color.value.toLowerCase(),
        size: size.value,
        video_ms: postPosition(),
      });
      showError(null);
      if (answer?.held) {
        // Accepted, but a moderator reviews it before anyone sees it.
        error.hidden = false;
        error.textContent = answer.message || "Your comment is waiting for a moderator's review.";
      }
      if (input.value === text) input.value = "";
    } catch (problem) {
      showError(problem);
    } finally {
      sending = false;
      composer.removeAttribute("aria-busy");
      input.focus();
    }
  });
  input.addEventListener("input", () => {
    if (!error.hidden) showError(null);
  });
}

// Start: history into the chat list, then the live stream from its last seq.

async function reloadAfterReset() {
  messages.reset();
  renderer.reset();
  if (loader) loader.reset();
  try {
    messages.addHistory((await fetchHistory()).events);
    messages.scrollToBottom();
  } catch (error) {
    console.error(error);
  }
}

async function start() {
  let after = null;
  try {
    const page = await fetchHistory();
    messages.addHistory(page.events);
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
    renderer.apply(events);
  });
  client.on("reset", () => reloadAfterReset());
  client.on("notice", (error) => console.warn("room:", error.code, error.message));
  wireComposer(client);
  client.connect();
}

start();
