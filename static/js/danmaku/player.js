// The player: the video, the comments' canvas and the control bar in one element, which is what
// goes fullscreen (the <video>'s own fullscreen would leave the comments behind). The bar sits
// below the canvas, never under it, so comments never cover a control. In fullscreen the send
// box moves into the bar, and back out after.

import { gettext, interpolate, pgettext } from "../ui/i18n.js";
import { VIDEO_EVENTS, stateAfter, stateMessage } from "./player-states.js";
import { SEEK_STEP_S, VOLUME_STEP, formatTime, shortcutFor, stepPosition, stepVolume } from "./player-keys.js";

const WEB_FULLSCREEN_CLASS = "player-web-fullscreen";

/** The bar's "position / length" (the order and the separator are the language's). */
export function timeText(position, duration) {
  return interpolate(pgettext("player time", "%(position)s / %(duration)s"), {
    position: formatTime(position),
    duration: formatTime(duration),
  });
}

export class Player {
  /**
   * @param {HTMLElement} root the player element (data-role="player")
   * @param {{video: HTMLVideoElement|null, store: import("./settings-store.js").SettingsStore,
   *          composer: HTMLElement|null, keys?: EventTarget}} options
   *   keys: where shortcuts are listened for (the document)
   */
  constructor(root, { video, store, composer, keys = root.ownerDocument }) {
    this.root = root;
    this.video = video;
    this.store = store;
    this.composer = composer;
    this.composerHome = composer ? { parent: composer.parentNode, next: composer.nextSibling } : null;
    const part = (role) => root.querySelector(`[data-role="${role}"]`);
    this.controls = {
      play: part("play"),
      seek: part("seek"),
      time: part("time"),
      mute: part("mute"),
      volume: part("volume"),
      danmaku: part("danmaku-toggle"),
      webFullscreen: part("web-fullscreen"),
      fullscreen: part("fullscreen"),
      slot: part("composer-slot"),
      state: part("player-state"),
      stateDetail: part("player-state-detail"),
    };
    this._bindButtons();
    if (video) this._bindVideo();
    store.addEventListener("change", () => this._showDanmakuState());
    this._showDanmakuState();
    root.ownerDocument.addEventListener("fullscreenchange", () => this._fullscreenChanged());
    this._keepComposerInView();
    keys.addEventListener("keydown", (event) => this._key(event));
  }

  get fullscreen() {
    return this.root.ownerDocument.fullscreenElement === this.root;
  }

  togglePlay() {
    if (!this.video) return;
    if (this.video.paused) this.video.play().catch(() => {});
    else this.video.pause();
  }

  seekBy(seconds) {
    if (!this.video) return;
    this.video.currentTime = stepPosition(this.video.currentTime, seconds, this.video.duration);
  }

  changeVolume(step) {
    if (!this.video) return;
    this.video.muted = false;
    this.video.volume = stepVolume(this.video.volume, step);
  }

  toggleDanmaku() {
    this.store.update({ show: !this.store.get().show });
  }

  toggleFullscreen() {
    const document = this.root.ownerDocument;
    if (this.fullscreen) document.exitFullscreen().catch(() => {});
    else this.root.requestFullscreen().catch(() => {});
  }

  toggleWebFullscreen() {
    const on = this.root.classList.toggle(WEB_FULLSCREEN_CLASS);
    this.controls.webFullscreen?.setAttribute("aria-pressed", String(on));
    this._placeComposer();
  }

  _bindButtons() {
    const { play, mute, danmaku, webFullscreen, fullscreen } = this.controls;
    play?.addEventListener("click", () => this.togglePlay());
    mute?.addEventListener("click", () => {
      if (this.video) this.video.muted = !this.video.muted;
    });
    danmaku?.addEventListener("click", () => this.toggleDanmaku());
    webFullscreen?.addEventListener("click", () => this.toggleWebFullscreen());
    fullscreen?.addEventListener("click", () => this.toggleFullscreen());
  }

  _bindVideo() {
    const { video } = this;
    const { seek, volume } = this.controls;
    for (const name of ["play", "pause", "ended"]) video.addEventListener(name, () => this._showPlaying());
    for (const name of ["timeupdate", "durationchange", "loadedmetadata", "seeked"]) {
      video.addEventListener(name, () => this._showTime());
    }
    video.addEventListener("volumechange", () => this._showVolume());
    video.addEventListener("click", () => this.togglePlay());
    seek?.addEventListener("input", () => {
      video.currentTime = Number(seek.value);
      this._showTime();
    });
    volume?.addEventListener("input", () => {
      video.muted = false;
      video.volume = Number(volume.value);
    });
    for (const name of VIDEO_EVENTS) {
      video.addEventListener(name, () => {
        const next = stateAfter(this.videoState, name);
        if (next !== null) this._showState(next);
      });
    }
    // The video began loading with the page, before this module ran.
    if (video.error) this._showState("error");
    else this._showState(video.readyState >= 1 ? "ready" : "loading");
    this._showPlaying();
    this._showTime();
    this._showVolume();
  }

  /** The video's state in the stage: a message under the comments, none while it plays. */
  _showState(state) {
    this.videoState = state;
    const { state: box, stateDetail } = this.controls;
    if (!box) return;
    const message = stateMessage(state, this.video.error);
    box.dataset.state = state;
    box.hidden = message === "";
    if (stateDetail) stateDetail.textContent = message; // the browser's own words included: text only
  }

  _showPlaying() {
    const { play } = this.controls;
    if (!play) return;
    const paused = this.video.paused;
    play.setAttribute("aria-label", paused ? gettext("Play") : gettext("Pause"));
    play.dataset.state = paused ? "paused" : "playing";
  }

  _showTime() {
    const { seek, time } = this.controls;
    const { currentTime, duration } = this.video;
    if (seek) {
      seek.max = String(Number.isFinite(duration) ? duration : 0);
      if (this.root.ownerDocument.activeElement !== seek) seek.value = String(currentTime);
    }
    if (time) time.textContent = timeText(currentTime, duration);
  }

  _showVolume() {
    const { mute, volume } = this.controls;
    const silent = this.video.muted || this.video.volume === 0;
    if (volume) volume.value = String(this.video.muted ? 0 : this.video.volume);
    if (mute) {
      mute.setAttribute("aria-label", silent ? gettext("Unmute") : gettext("Mute"));
      mute.dataset.state = silent ? "muted" : "sound";
    }
  }

  _showDanmakuState() {
    const on = this.store.get().show;
    this.controls.danmaku?.setAttribute("aria-pressed", String(on));
    this.root.dataset.danmaku = on ? "on" : "off";
  }

  _fullscreenChanged() {
    this.controls.fullscreen?.setAttribute(
      "aria-label",
      this.fullscreen ? gettext("Exit fullscreen") : gettext("Fullscreen"),
    );
    this._placeComposer();
  }

  /** The send box: in the bar while the player fills the screen or the window, else in its place. */
  _placeComposer() {
    const { composer, composerHome } = this;
    const { slot } = this.controls;
    if (!composer || !slot) return;
    const filling = this.fullscreen || this.root.classList.contains(WEB_FULLSCREEN_CLASS);
    if (filling && composer.parentNode !== slot) slot.append(composer);
    else if (!filling && composer.parentNode === slot) composerHome.parent.insertBefore(composer, composerHome.next);
    this.root.dataset.composer = filling ? "bar" : "page";
  }

  /** When the visible area shrinks while the send box has the focus (a phone's keyboard
   * opening), bring the box back into view. */
  _keepComposerInView() {
    const viewport = this.root.ownerDocument.defaultView?.visualViewport;
    if (!viewport || !this.composer) return;
    viewport.addEventListener("resize", () => {
      if (this.composer.contains(this.root.ownerDocument.activeElement)) {
        this.composer.scrollIntoView({ block: "nearest" });
      }
    });
  }

  _key(event) {
    const action = shortcutFor(event);
    if (action === null) return;
    if (!this.video && !["fullscreen", "danmaku"].includes(action)) return; // the page scrolls
    const run = {
      play: () => this.togglePlay(),
      back: () => this.seekBy(-SEEK_STEP_S),
      forward: () => this.seekBy(SEEK_STEP_S),
      louder: () => this.changeVolume(VOLUME_STEP),
      quieter: () => this.changeVolume(-VOLUME_STEP),
      fullscreen: () => this.toggleFullscreen(),
      danmaku: () => this.toggleDanmaku(),
    }[action];
    event.preventDefault();
    run();
  }
}
