// The call page: the room's call (camera and/or microphone, mute, leave) beside its chat. Both
// ride one WebSocket to the room. ?relay=1 sends every stream through TURN (iceTransportPolicy
// "relay"), to check a TURN server.

import { webSocketTransport } from "../client/transport.js";
import { CallSession, CallState } from "../call/session.js";
import { CallTiles } from "../call/tiles.js";
import { gettext } from "../ui/i18n.js";
import { LiveRoom } from "../ui/live-room.js";
import { MessageList } from "../ui/messages.js";

const root = document.getElementById("room");
const part = (role) => root.querySelector(`[data-role="${role}"]`);
const slug = root.dataset.slug;
const params = new URLSearchParams(window.location.search);

const messages = new MessageList(part("messages"), part("scroll"), {
  meId: Number(root.dataset.meId),
  empty: part("empty"),
});
let session = null;
const tiles = new CallTiles(part("tiles"), part("status"), {
  onRemove: root.dataset.canModerate ? (id) => session?.remove(id) : null,
});

const live = new LiveRoom({
  slug,
  historyUrl: root.dataset.historyUrl,
  list: messages,
  state: root.querySelector('[data-testid="connection-state"]'),
  loadOlder: part("load-older"),
  composer: {
    form: part("composer"),
    input: part("input"),
    error: part("send-error"),
    noun: "message",
    frame: (text) => ({ type: "message", text }),
    onSent: () => messages.scrollToBottom(),
  },
  transports: [webSocketTransport], // the call's signalling needs the WebSocket
});

const controls = {
  join: part("join"),
  leave: part("leave"),
  muteMic: part("mute-mic"),
  muteCamera: part("mute-camera"),
  useCamera: part("use-camera"),
  useMic: part("use-mic"),
};

function showState(state) {
  const joined = state === CallState.JOINED;
  controls.join.hidden = joined;
  controls.join.disabled = state === CallState.JOINING;
  controls.useCamera.disabled = controls.useMic.disabled = state !== CallState.IDLE;
  controls.leave.hidden = !joined;
  controls.muteMic.hidden = !joined || !session.media.audio;
  controls.muteCamera.hidden = !joined || !session.media.video;
  root.dataset.callState = state;
}

function toggle(button, kind, onText, offText) {
  const muted = button.getAttribute("aria-pressed") !== "true";
  button.setAttribute("aria-pressed", String(muted));
  button.textContent = muted ? offText : onText;
  session.setMuted(kind, muted);
}

const client = await live.start();
session = new CallSession({
  client,
  view: tiles,
  iceUrl: root.dataset.iceUrl,
  maxParticipants: Number(root.dataset.maxParticipants),
  relayOnly: params.get("relay") === "1",
});
session.onStateChange = showState;
session.start();
showState(CallState.IDLE);

controls.join.addEventListener("click", () =>
  session.join({ audio: controls.useMic.checked, video: controls.useCamera.checked }),
);
controls.leave.addEventListener("click", () => session.leave());
controls.muteMic.addEventListener("click", () =>
  toggle(controls.muteMic, "audio", gettext("Mute microphone"), gettext("Unmute microphone")),
);
controls.muteCamera.addEventListener("click", () =>
  toggle(controls.muteCamera, "video", gettext("Turn camera off"), gettext("Turn camera on")),
);
window.addEventListener("pagehide", () => session.leave());
