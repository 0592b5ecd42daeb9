// The watch page: the player (video, comments flying over it, its own controls: player.js), the room's chat beside it, a bar to
// post comments in a chosen style, and the viewer's settings.
//
// Recorded video (a video that is not live): the renderer follows the <video>'s position
// (VideoClock) and the comments are loaded by time window as playback advances (timeline.js);
// a comment posted now carries the current position. Live (no video, or a live stream): the
// renderer runs on the wall clock and comments show as they arrive. Both take the room's
// stream for the chat list, new comments, deletions and clears (ui/live-room.js).
// ?transport=ws|sse|poll forces one transport, as on the room page.

import { VideoClock, WallClock } from "../danmaku/clock.js";
import { exposeRenderer } from "../danmaku/debug.js";
import { bindPositionedForm } from "../danmaku/positioned-form.js";
import { bindPostStyle } from "../danmaku/post-style.js";
import { Player } from "../danmaku/player.js";
import { DanmakuRenderer } from "../danmaku/renderer.js";
import { DensityBar } from "../danmaku/density-bar.js";
import { bindSettingsPanel } from "../danmaku/settings-panel.js";
import { SettingsStore } from "../danmaku/settings-store.js";
import { TimelineLoader } from "../danmaku/timeline.js";
import { LiveRoom } from "../ui/live-room.js";
import { gettext } from "../ui/i18n.js";
import { MessageList } from "../ui/messages.js";

// Comments on screen at most on the watch page (the overlay takes ?density=).
const WATCH_DENSITY = 150;

const root = document.getElementById("watch");
const part = (role) => root.querySelector(`[data-role="${role}"]`);
const meId = root.dataset.meId ? Number(root.dataset.meId) : null;
const meName = root.dataset.meName || null;
const video = part("video");
const recorded = video !== null && root.dataset.recorded === "true";
const durationMs = root.dataset.durationMs ? Number(root.dataset.durationMs) : null;

function readJson(id) {
  try {
    return JSON.parse(document.getElementById(id)?.textContent ?? "null");
  } catch {
    return null;
  }
}

/** The position to post at: the video's, in whole ms within its length; null on live. */
function postPosition() {
  if (!recorded) return null;
  const position = Math.max(0, Math.round(video.currentTime * 1000));
  return durationMs === null ? position : Math.min(position, durationMs);
}

// The renderer and the viewer's settings.
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

// The chat list and the composer, on the room's stream.
const composer = part("composer"); // only for signed-in users
new Player(part("player"), { video, store, composer });
// The seek bar's density curve (recorded video only), kept up to date from the stream.
const densityBar = recorded
  ? new DensityBar({
      canvas: part("density"),
      seek: part("seek"),
      hoverTime: part("hover-time"),
      url: root.dataset.densityUrl,
      duration: () => video.duration,
    })
  : null;
densityBar?.load();
const styleControls = { mode: part("mode"), size: part("size"), color: part("color") };
const postStyle = composer && bindPostStyle(composer, styleControls);

const live = new LiveRoom({
  slug: root.dataset.slug,
  historyUrl: root.dataset.historyUrl,
  list: new MessageList(part("messages"), part("scroll"), {
    meId,
    meName,
    empty: part("empty"),
    newBelow: part("new-below"),
  }),
  state: part("state"),
  composer: composer && {
    form: composer,
    input: part("input"),
    error: part("send-error"),
    noun: "comment",
    charsLeft: part("chars-left"),
    frame: (text) => ({ type: "danmaku", text, ...postStyle(), video_ms: postPosition() }),
  },
  onEvents: (events) => {
    renderer.apply(events);
    densityBar?.apply(events);
  },
  onReset: () => {
    renderer.reset();
    loader?.reset();
  },
});
live.start();

// The positioned-comment form (only on the page of the room's owner and moderators).
const positionedForm = part("positioned-form");
if (positionedForm) {
  bindPositionedForm(positionedForm, {
    stage: root.querySelector('[data-testid="danmaku-stage"]'),
    send: (frame) =>
      live.client ? live.client.sendFrame(frame) : Promise.reject({ code: "not_connected", message: gettext("Not connected.") }),
    style: () => (postStyle ? postStyle() : {}),
    position: postPosition,
  });
}
