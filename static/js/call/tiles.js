// The call's tiles: one per participant, a <video> labelled with their name (for an audio-only
// participant the name is what shows), and their mute state. Names go in with textContent.
// When a remote video shows its first frame, the tile records how long after "join" that was
// (data-first-frame-ms), which the page's tests and the benchmark read.

import { formatNumber, gettext, interpolate, interpolateParts } from "../ui/i18n.js";

export class CallTiles {
  /** `onRemove(id)`: a moderator's page gets a "Remove" button on the others' tiles. */
  constructor(list, statusLine, { countBadge = null, onRemove = null } = {}) {
    this.list = list;
    this.statusLine = statusLine;
    this.countBadge = countBadge;
    this.onRemove = onRemove;
    this.tiles = new Map(); // participant id -> {item, video, name, state}
  }

  upsert(participant, isSelf) {
    let tile = this.tiles.get(participant.id);
    if (!tile) {
      const item = document.createElement("li");
      item.className = "call-tile";
      item.dataset.testid = "call-tile";
      item.dataset.participant = participant.id;
      item.dataset.self = isSelf ? "true" : "false";
      const video = document.createElement("video");
      video.autoplay = true;
      video.playsInline = true;
      video.muted = isSelf; // never play our own microphone back
      video.dataset.testid = "call-video";
      const name = document.createElement("span");
      name.className = "call-name";
      name.dataset.testid = "tile-name";
      const state = document.createElement("span");
      state.className = "call-mute-state";
      state.dataset.testid = "tile-state";
      item.append(video, name, state);
      if (this.onRemove && !isSelf) {
        const remove = document.createElement("button");
        remove.type = "button";
        remove.className = "call-remove";
        remove.dataset.testid = "remove-participant";
        remove.textContent = gettext("Remove from the call");
        remove.addEventListener("click", () => this.onRemove(participant.id));
        item.append(remove);
      }
      this.list.append(item);
      tile = { item, video, name, state };
      this.tiles.set(participant.id, tile);
    }
    const userName = participant.user?.name ?? "";
    // The name in a <bdi>: its bidi controls cannot reorder " (you)" or the tile's other text.
    const name = document.createElement("bdi");
    name.textContent = userName;
    if (isSelf) tile.name.replaceChildren(...interpolateParts(gettext("%(name)s (you)"), { name }));
    else tile.name.replaceChildren(name);
    tile.video.setAttribute("aria-label", userName);
    tile.item.dataset.audioMuted = participant.audio_muted ? "true" : "false";
    tile.item.dataset.videoMuted = participant.video_muted ? "true" : "false";
    tile.item.dataset.audioOnly = participant.video ? "false" : "true";
    const notes = [];
    if (!participant.audio) notes.push(gettext("no microphone"));
    else if (participant.audio_muted) notes.push(gettext("microphone muted"));
    if (!participant.video) notes.push(gettext("audio only"));
    else if (participant.video_muted) notes.push(gettext("camera off"));
    tile.state.textContent = notes.join(gettext(", "));
  }

  attach(id, stream, startedAt) {
    const tile = this.tiles.get(id);
    if (!tile) return;
    // Assigned again for every new track: a track added to the stream after it started
    // playing (video negotiated after audio) is not always shown until the element reloads.
    tile.video.srcObject = stream;
    tile.video.play?.().catch(() => {}); // autoplay rules: a muted or user-started page plays
    if (startedAt !== null && typeof tile.video.requestVideoFrameCallback === "function") {
      tile.video.requestVideoFrameCallback(() => {
        if (!tile.item.dataset.firstFrameMs) {
          tile.item.dataset.firstFrameMs = String(Math.round(performance.now() - startedAt));
        }
      });
    }
  }

  remove(id) {
    const tile = this.tiles.get(id);
    if (!tile) return;
    tile.video.srcObject = null;
    tile.item.remove();
    this.tiles.delete(id);
  }

  clear() {
    for (const id of [...this.tiles.keys()]) this.remove(id);
  }

  status(text) {
    this.statusLine.textContent = text;
  }

  count(size) {
    if (!this.countBadge) return;
    this.countBadge.hidden = size === 0;
    this.countBadge.textContent = interpolate(gettext(" (%(count)s in the call)"), { count: formatNumber(size) });
  }
}
