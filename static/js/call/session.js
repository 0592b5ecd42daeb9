// One page's part in the room's call: the local media, the roster, one PeerLink per other
// participant (a mesh), heartbeats, and what happens when the room's WebSocket drops and comes
// back (the page joins again with `resume`, keeping its place and its peer connections).
//
// Everything it talks to is given, so the unit tests run it with fakes: the RoomClient (its
// sendFrame and its `call` and `hello` events), the view (tiles.js), the peer connection and
// media factories, and fetch for the ICE servers.

import { formatNumber, gettext, interpolate, ngettext } from "../ui/i18n.js";
import { CallRoster } from "./roster.js";
import { isPolite, PeerLink } from "./negotiation.js";

// Well within the server's timeout (CHAT_CALL_TIMEOUT, 30 s by default): two heartbeats may be
// lost before the server takes this participant for gone.
export const HEARTBEAT_MS = 10_000;

export const CallState = Object.freeze({ IDLE: "idle", JOINING: "joining", JOINED: "joined" });

// Looked up when shown (gettext then reads the page's catalog).
const ENDED_TEXTS = {
  removed: () => gettext("A moderator removed you from the call."),
  expired: () => gettext("The server lost track of you in the call; join again."),
  replaced: () => gettext("You joined this call from another page."),
};

// Refusals of a heartbeat that end this page's part: its standing changed during the call.
const ENDING_CODES = new Set(["banned", "muted", "call_forbidden", "call_removed", "private_room"]);

/** What the page says when its part of the call ended (a `call.ended` frame): why, and for a
 * removal how long it keeps this user out (`retry_after`, seconds). */
export function endedText({ reason, retry_after: retryAfter } = {}) {
  const text = Object.hasOwn(ENDED_TEXTS, reason) ? ENDED_TEXTS[reason]() : gettext("Your part of the call ended.");
  if (reason !== "removed" || !(Number(retryAfter) > 0)) return text;
  const minutes = Math.ceil(Number(retryAfter) / 60);
  const again = ngettext(
    "You may join it again in %(count)s minute.",
    "You may join it again in %(count)s minutes.",
    minutes,
  );
  // Two sentences: Chinese and Japanese put no space between them.
  const count = formatNumber(minutes);
  return interpolate(gettext("%(ended)s %(again)s"), { ended: text, again: interpolate(again, { count }) });
}

export class CallSession {
  /**
   * @param {object} options
   *   client      RoomClient of the room, over WebSocket
   *   view        {upsert(participant, isSelf), attach(id, stream, startedAt), remove(id), status(text), clear()}
   *   iceUrl      GET -> {ice_servers, ttl}
   *   maxParticipants  the mesh limit the server enforces
   *   relayOnly   iceTransportPolicy "relay": every path through TURN
   *   createPeerConnection(config), getUserMedia(constraints), fetchJson(url)
   */
  constructor({
    client,
    view,
    iceUrl,
    maxParticipants,
    relayOnly = false,
    createPeerConnection = (config) => new RTCPeerConnection(config),
    getUserMedia = (constraints) => navigator.mediaDevices.getUserMedia(constraints),
    fetchJson = defaultFetchJson,
    heartbeatMs = HEARTBEAT_MS,
    now = () => performance.now(),
  }) {
    Object.assign(this, { client, view, iceUrl, maxParticipants, relayOnly, heartbeatMs, now });
    Object.assign(this, { createPeerConnection, getUserMedia, fetchJson });
    this.state = CallState.IDLE;
    this.myId = null;
    this.roster = new CallRoster();
    this.links = new Map(); // participant id -> PeerLink
    this.formerIds = new Set(); // this page's ids before a rejoin gave it a new one
    this.stream = null;
    this.iceServers = [];
    this.media = { audio: false, video: false, audio_muted: false, video_muted: false };
    this.joinStartedAt = null;
    this.heartbeat = null;
    this.onStateChange = () => {};
  }

  /** Follow the room's call frames (call once, before the client connects). */
  start() {
    this.client.on("call", (frame) => this.onFrame(frame));
    this.client.on("hello", () => this.onReconnect());
  }

  async join({ audio, video }) {
    if (this.state !== CallState.IDLE) return;
    if (this.roster.isFullFor(this.myId, this.maxParticipants)) {
      const full = ngettext(
        "This call is full: a call holds at most %(count)s person.",
        "This call is full: a call holds at most %(count)s people.",
        this.maxParticipants,
      );
      this.view.status(interpolate(full, { count: formatNumber(this.maxParticipants) }));
      return;
    }
    this._setState(CallState.JOINING);
    this.joinStartedAt = this.now();
    try {
      this.stream = audio || video ? await this.getUserMedia({ audio, video }) : null;
      const ice = await this.fetchJson(this.iceUrl);
      this.iceServers = Array.isArray(ice?.ice_servers) ? ice.ice_servers : [];
      const tracks = this.stream ? this.stream.getTracks() : [];
      this.media = {
        audio: tracks.some((track) => track.kind === "audio"),
        video: tracks.some((track) => track.kind === "video"),
        audio_muted: false,
        video_muted: false,
      };
      const answer = await this.client.sendFrame({ type: "call.join", ...this.media });
      this.myId = answer.id;
    } catch (error) {
      this._stopMedia();
      this._setState(CallState.IDLE);
      this.view.status(error?.message || String(error));
      return;
    }
    this._setState(CallState.JOINED);
    this.view.status(gettext("In the call."));
    const me = this.roster.get(this.myId) ?? { id: this.myId, user: this.client.me ?? { name: gettext("me") }, ...this.media };
    this.view.upsert(me, true);
    if (this.stream) this.view.attach(this.myId, this.stream, null);
    this.heartbeat = setInterval(() => this._beat(), this.heartbeatMs);
    this._syncLinks();
  }

  async leave() {
    if (this.state !== CallState.JOINED) return;
    const sent = this.client.sendFrame({ type: "call.leave" }).catch(() => {});
    this._end(gettext("You left the call."));
    await sent;
  }

  /** Mute or unmute the microphone ("audio") or the camera ("video"); the others see it. */
  async setMuted(kind, muted) {
    if (!this.stream) return;
    for (const track of this.stream.getTracks()) if (track.kind === kind) track.enabled = !muted;
    this.media = { ...this.media, [`${kind}_muted`]: muted };
    if (this.state === CallState.JOINED) {
      await this.client.sendFrame({ type: "call.mute", ...this.media }).catch((error) => this.view.status(error.message));
    }
  }

  /** A moderator ends someone else's part in the call (the server checks the role). */
  async remove(id) {
    try {
      await this.client.sendFrame({ type: "call.remove", participant: id });
    } catch (error) {
      this.view.status(error?.message || String(error));
    }
  }

  onFrame(frame) {
    switch (frame.type) {
      case "call.roster":
        return this._onRoster(frame);
      case "call.signal":
        return this._onSignal(frame);
      case "call.ended":
        return this._end(endedText(frame));
      default:
        return undefined;
    }
  }

  /** The room's WebSocket came back (a new hello): take our place in the call again. */
  async onReconnect() {
    if (this.state !== CallState.JOINED) return;
    try {
      const answer = await this.client.sendFrame({ type: "call.join", ...this.media, resume: this.myId });
      if (answer.id !== this.myId) {
        // Our old place was gone (expired): the others know us by the new id.
        for (const id of [...this.links.keys()]) this._dropLink(id);
        this.view.remove(this.myId);
        this.formerIds.add(this.myId); // until the roster catches up, never a link to ourselves
        this.myId = answer.id;
        this.view.upsert({ id: this.myId, user: this.client.me ?? { name: gettext("me") }, ...this.media }, true);
        if (this.stream) this.view.attach(this.myId, this.stream, null);
        this._syncLinks();
      }
    } catch (error) {
      this._end(error?.message || gettext("Could not rejoin the call."));
    }
  }

  _onRoster(frame) {
    const diff = this.roster.apply(frame);
    if (diff === null) return;
    this.view.count?.(this.roster.size);
    if (this.state !== CallState.JOINED) return;
    for (const participant of diff.left) {
      if (participant.id === this.myId) continue;
      this._dropLink(participant.id);
    }
    for (const participant of [...diff.joined, ...diff.changed]) {
      this.view.upsert(participant, participant.id === this.myId);
    }
    this._syncLinks();
  }

  _onSignal(frame) {
    if (this.state !== CallState.JOINED || typeof frame.from !== "string" || this.formerIds.has(frame.from)) return;
    const link = this.links.get(frame.from) ?? this._link(frame.from);
    link.receive(frame);
  }

  /**
   * Offer to everyone who joined before us; those who join later offer to us (_onSignal makes
   * their link when their offer comes). One side starts, so the first offers never collide:
   * Chromium's ICE gathering could stall after the implicit rollback of a collision.
   */
  _syncLinks() {
    for (const participant of this.roster.others(this.myId)) {
      const id = participant.id;
      if (this.links.has(id) || this.formerIds.has(id) || !this.roster.joinedBefore(id, this.myId)) continue;
      this._link(id, { offering: true });
    }
  }

  /** A peer connection to `id`: this side makes the first offer (`offering`), or answers. */
  _link(id, { offering = false } = {}) {
    const config = { iceServers: this.iceServers };
    if (this.relayOnly) config.iceTransportPolicy = "relay";
    const pc = this.createPeerConnection(config);
    const link = new PeerLink({
      pc,
      polite: isPolite(this.myId, id),
      send: (signal) =>
        this.client.sendFrame({ type: "call.signal", to: id, ...signal }).catch((error) => {
          if (error?.code !== "peer_not_found") console.warn("call: a signal was refused:", error);
        }),
    });
    this.links.set(id, link);
    this.view.upsert(this.roster.get(id) ?? { id, user: { name: "…" } }, false);
    pc.ontrack = ({ track, streams }) => {
      const stream = streams?.[0] ?? new MediaStream([track]);
      this.view.attach(id, stream, this.joinStartedAt);
    };
    if (offering) link.offerMedia(this.stream);
    else if (this.stream) link.addStream(this.stream);
    return link;
  }

  _dropLink(id) {
    const link = this.links.get(id);
    if (link) link.close();
    this.links.delete(id);
    this.view.remove(id);
  }

  async _beat() {
    try {
      await this.client.sendFrame({ type: "call.heartbeat" });
    } catch (error) {
      if (error?.code === "not_in_call") await this.onReconnect();
      else if (ENDING_CODES.has(error?.code)) this._end(error.message);
      // not_connected, timeout: the WebSocket is down; the hello on reconnect rejoins
    }
  }

  _end(text) {
    if (this.state === CallState.IDLE) return;
    clearInterval(this.heartbeat);
    this.heartbeat = null;
    for (const id of [...this.links.keys()]) this._dropLink(id);
    this._stopMedia();
    this.view.clear();
    this.myId = null;
    this._setState(CallState.IDLE);
    this.view.status(text);
  }

  _stopMedia() {
    if (this.stream) for (const track of this.stream.getTracks()) track.stop();
    this.stream = null;
  }

  _setState(state) {
    this.state = state;
    this.onStateChange(state);
  }
}

async function defaultFetchJson(url) {
  const answer = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  const body = await answer.json().catch(() => ({}));
  if (!answer.ok) {
    throw new Error(body.message || interpolate(gettext("The server answered %(status)s."), { status: answer.status }));
  }
  return body;
}
