import assert from "node:assert/strict";
import { test } from "node:test";

import { CallSession, CallState, endedText } from "../../../static/js/call/session.js";
import { formatNumber } from "../../../static/js/ui/i18n.js";
import { setCatalog } from "../../../static/js/ui/i18n.js";
import { installGlobals } from "../fakes.js";
import { FakePeerConnection, fakeStream } from "./fake-rtc.js";

async function settle(rounds = 20) {
  for (let round = 0; round < rounds; round++) await new Promise((resolve) => setTimeout(resolve, 0));
}

/** A RoomClient stand-in: records sends, answers them with `answers[type]`, emits frames. */
function fakeClient(answers = {}) {
  const listeners = { call: [], hello: [] };
  return {
    sent: [],
    me: { id: 1, name: "ann" },
    on(type, listener) {
      listeners[type].push(listener);
    },
    emit(type, frame) {
      for (const listener of listeners[type]) listener(frame);
    },
    sendFrame(frame) {
      this.sent.push(frame);
      const answer = answers[frame.type];
      if (answer instanceof Error) return Promise.reject(answer);
      return Promise.resolve(typeof answer === "function" ? answer(frame) : (answer ?? {}));
    },
  };
}

function fakeView() {
  return {
    tiles: new Map(),
    lines: [],
    upsert(participant, isSelf) {
      this.tiles.set(participant.id, { participant, isSelf, stream: null });
    },
    attach(id, stream) {
      this.tiles.get(id).stream = stream;
    },
    remove(id) {
      this.tiles.delete(id);
    },
    clear() {
      this.tiles.clear();
    },
    status(text) {
      this.lines.push(text);
    },
  };
}

const person = (id, name) => ({
  id,
  user: { id: name.length, name },
  audio: true,
  video: true,
  audio_muted: false,
  video_muted: false,
});

function setUp(t, answers = {}) {
  const client = fakeClient({ "call.join": { id: "m1" }, ...answers });
  const view = fakeView();
  const made = [];
  const media = [];
  const session = new CallSession({
    client,
    view,
    iceUrl: "/rooms/demo/call/ice",
    maxParticipants: 6,
    createPeerConnection: (config) => {
      const pc = new FakePeerConnection(config, `pc${made.length}`);
      made.push(pc);
      return pc;
    },
    getUserMedia: async (constraints) => {
      media.push(constraints);
      return fakeStream(...Object.keys(constraints).filter((kind) => constraints[kind]));
    },
    fetchJson: async () => ({ ice_servers: [{ urls: ["turn:turn.example:3478"], username: "u", credential: "c" }] }),
    heartbeatMs: 1_000_000,
  });
  session.start();
  t.after(() => clearInterval(session.heartbeat));
  return { client, view, session, made, media };
}

test("joining sends the media it has, and a peer connection goes to each other participant", async (t) => {
  const { client, view, session, made } = setUp(t);
  client.emit("call", { type: "call.roster", version: 1, participants: [person("z9", "bob")] });
  await session.join({ audio: true, video: false });
  assert.equal(session.state, CallState.JOINED);
  assert.deepEqual(client.sent[0], { type: "call.join", audio: true, video: false, audio_muted: false, video_muted: false });
  assert.equal(made.length, 1);
  assert.deepEqual(made[0].config.iceServers[0].urls, ["turn:turn.example:3478"]);
  await settle();
  const offer = client.sent.find((frame) => frame.type === "call.signal");
  assert.equal(offer.to, "z9");
  assert.equal(offer.kind, "offer");
  assert.equal(view.tiles.get("m1").isSelf, true);
  assert.equal(view.tiles.get("z9").participant.user.name, "bob");
});

test("relay only sets the ICE transport policy", async (t) => {
  const { client, session, made } = setUp(t);
  session.relayOnly = true;
  await session.join({ audio: true, video: true });
  client.emit("call", { type: "call.roster", version: 1, participants: [person("a0", "bob"), person("m1", "ann")] });
  assert.equal(made[0].config.iceTransportPolicy, "relay");
});

test("a full call is refused before asking for the camera", async (t) => {
  const { client, view, session, media } = setUp(t);
  const six = Array.from({ length: 6 }, (_, n) => person(`p${n}`, `user${n}`));
  client.emit("call", { type: "call.roster", version: 1, participants: six });
  await session.join({ audio: true, video: true });
  assert.equal(session.state, CallState.IDLE);
  assert.deepEqual(media, []);
  assert.match(view.lines.at(-1), /at most 6 people/);
});

test("the server's refusal is shown and the camera released", async (t) => {
  const refusal = Object.assign(new Error("You may not join this room's call while sanctioned."), { code: "banned" });
  const { view, session } = setUp(t, { "call.join": refusal });
  await session.join({ audio: true, video: true });
  assert.equal(session.state, CallState.IDLE);
  assert.equal(session.stream, null);
  assert.match(view.lines.at(-1), /sanctioned/);
});

test("who leaves the roster loses their tile and peer connection; mute changes reach the tiles", async (t) => {
  const { client, view, session, made } = setUp(t);
  await session.join({ audio: true, video: true });
  client.emit("call", { type: "call.roster", version: 2, participants: [person("z9", "bob"), person("m1", "ann")] });
  client.emit("call", {
    type: "call.roster",
    version: 3,
    participants: [{ ...person("z9", "bob"), audio_muted: true }, person("m1", "ann")],
  });
  assert.equal(view.tiles.get("z9").participant.audio_muted, true);
  client.emit("call", { type: "call.roster", version: 4, participants: [person("m1", "ann")] });
  assert.equal(made[0].closed, true);
  assert.equal(view.tiles.has("z9"), false);
});

test("muting disables the track and tells the others", async (t) => {
  const { client, session } = setUp(t);
  await session.join({ audio: true, video: true });
  await session.setMuted("audio", true);
  const audio = session.stream.getTracks().find((track) => track.kind === "audio");
  assert.equal(audio.enabled, false);
  assert.deepEqual(client.sent.at(-1), { type: "call.mute", audio: true, video: true, audio_muted: true, video_muted: false });
});

test("an offer from someone not yet in the roster still gets a peer connection and an answer", async (t) => {
  const { client, session, made } = setUp(t);
  await session.join({ audio: true, video: true });
  client.emit("call", { type: "call.signal", from: "a0", kind: "offer", sdp: "offer from a0" });
  await settle();
  assert.equal(made.length, 1);
  assert.equal(made[0].remoteDescription.sdp, "offer from a0");
  assert.ok(client.sent.some((frame) => frame.type === "call.signal" && frame.kind === "answer" && frame.to === "a0"));
});

test("a dropped WebSocket: the new hello rejoins with resume and keeps the peer connections", async (t) => {
  const { client, session, made } = setUp(t);
  await session.join({ audio: true, video: true });
  client.emit("call", { type: "call.roster", version: 2, participants: [person("z9", "bob"), person("m1", "ann")] });
  client.emit("hello", {});
  await settle();
  assert.deepEqual(client.sent.filter((frame) => frame.type === "call.join").at(-1).resume, "m1");
  assert.equal(made[0].closed, false);
  assert.equal(session.links.size, 1);
});

test("a lost place (a new id on rejoin) rebuilds the peer connections under the new id", async (t) => {
  let joins = 0;
  const { client, session, made } = setUp(t, { "call.join": () => ({ id: joins++ === 0 ? "m1" : "m2" }) });
  await session.join({ audio: true, video: true });
  client.emit("call", { type: "call.roster", version: 2, participants: [person("z9", "bob"), person("m1", "ann")] });
  client.emit("hello", {});
  await settle();
  assert.equal(session.myId, "m2");
  assert.equal(made[0].closed, true);
  assert.equal(made.length, 2);
});

test("removed by a moderator: the call ends on this page and says why", async (t) => {
  const { client, view, session, made } = setUp(t);
  await session.join({ audio: true, video: true });
  client.emit("call", { type: "call.roster", version: 2, participants: [person("z9", "bob"), person("m1", "ann")] });
  const stream = session.stream;
  client.emit("call", { type: "call.ended", reason: "removed" });
  assert.equal(session.state, CallState.IDLE);
  assert.equal(made[0].closed, true);
  assert.ok(stream.getTracks().every((track) => track.stopped));
  assert.equal(view.tiles.size, 0);
  assert.match(view.lines.at(-1), /moderator removed you/);
});

test("a removal says how long it keeps this user out; other endings say why", () => {
  assert.equal(
    endedText({ reason: "removed", retry_after: 600 }),
    "A moderator removed you from the call. You may join it again in 10 minutes.",
  );
  assert.equal(
    endedText({ reason: "removed", retry_after: 30 }),
    "A moderator removed you from the call. You may join it again in 1 minute.",
  );
  assert.equal(endedText({ reason: "removed" }), "A moderator removed you from the call.");
  assert.equal(endedText({ reason: "expired", retry_after: 600 }), "The server lost track of you in the call; join again.");
  assert.equal(endedText({ reason: "<b>odd</b>" }), "Your part of the call ended.");
});

test("a heartbeat refused because this user may no longer join ends the call and says why", async (t) => {
  const message = "Only the room's members and moderators may join its call.";
  const forbidden = Object.assign(new Error(message), { code: "call_forbidden" });
  const { client, view, session } = setUp(t, { "call.heartbeat": forbidden });
  await session.join({ audio: true, video: true });
  await session._beat();
  await settle();
  assert.equal(session.state, CallState.IDLE);
  assert.equal(view.lines.at(-1), message);
  assert.equal(client.sent.filter((frame) => frame.type === "call.join").length, 1); // no rejoin
});

test("a heartbeat answered not_in_call rejoins", async (t) => {
  const notInCall = Object.assign(new Error("no longer"), { code: "not_in_call" });
  const { client, session } = setUp(t, { "call.heartbeat": notInCall });
  await session.join({ audio: true, video: true });
  await session._beat();
  await settle();
  assert.equal(client.sent.filter((frame) => frame.type === "call.join").length, 2);
});

test("who joined before us gets our offer; who joins after us offers to us, and we answer", async (t) => {
  const { client, session, made } = setUp(t);
  client.emit("call", { type: "call.roster", version: 1, participants: [person("a0", "bob")] });
  await session.join({ audio: true, video: true });
  client.emit("call", {
    type: "call.roster",
    version: 2,
    participants: [person("a0", "bob"), person("m1", "ann"), person("z9", "cid")],
  });
  await settle();
  assert.equal(made.length, 1); // to bob only: cid joined after us
  assert.deepEqual(
    client.sent.filter((frame) => frame.kind === "offer").map((frame) => frame.to),
    ["a0"],
  );
  client.emit("call", { type: "call.signal", from: "z9", kind: "offer", sdp: "offer from cid" });
  await settle();
  assert.equal(made.length, 2);
  assert.equal(made[1].tracks.length, 2); // our media goes back in the answer
  assert.ok(client.sent.some((frame) => frame.kind === "answer" && frame.to === "z9"));
  assert.equal(client.sent.filter((frame) => frame.kind === "offer" && frame.to === "z9").length, 0);
});

test("a page with neither camera nor microphone still asks for the others' media", async (t) => {
  const { client, session, made } = setUp(t);
  client.emit("call", { type: "call.roster", version: 1, participants: [person("a0", "bob")] });
  await session.join({ audio: false, video: false });
  await settle();
  assert.deepEqual(
    made[0].transceivers.map((transceiver) => [transceiver.kind, transceiver.direction]),
    [
      ["audio", "recvonly"],
      ["video", "recvonly"],
    ],
  );
  assert.ok(client.sent.some((frame) => frame.kind === "offer" && frame.to === "a0"));
});

test("an offer from a page with a microphone only still asks for the other's camera", async (t) => {
  const { client, session, made } = setUp(t);
  client.emit("call", { type: "call.roster", version: 1, participants: [person("a0", "bob")] });
  await session.join({ audio: true, video: false });
  assert.deepEqual(
    made[0].tracks.map((track) => track.kind),
    ["audio"],
  );
  assert.deepEqual(made[0].transceivers, [{ kind: "video", direction: "recvonly" }]);
});

test("a moderator's remove goes to the server, and a refusal is shown", async (t) => {
  const refusal = Object.assign(new Error("Only the room's moderators may remove someone from the call."), {
    code: "forbidden",
  });
  const { client, view, session } = setUp(t, { "call.remove": refusal });
  await session.remove("z9");
  assert.deepEqual(client.sent.at(-1), { type: "call.remove", participant: "z9" });
  assert.match(view.lines.at(-1), /Only the room's moderators/);
});

test("the endings are in the page's language, the minutes in its plural form", (t) => {
  t.after(() => setCatalog(null));
  setCatalog({
    plural: "0",
    catalog: {
      "A moderator removed you from the call.": "版主已将你移出通话。",
      "You may join it again in %(count)s minute.": ["%(count)s 分钟后可再次加入。"],
      "%(ended)s %(again)s": "%(ended)s%(again)s",
      "Your part of the call ended.": "你的通话已结束。",
    },
  });
  assert.equal(endedText({ reason: "removed", retry_after: 600 }), "版主已将你移出通话。10 分钟后可再次加入。");
  assert.equal(endedText({ reason: "removed", retry_after: 30 }), "版主已将你移出通话。1 分钟后可再次加入。");
  assert.equal(endedText({ reason: "other" }), "你的通话已结束。");
});

test("a full call says so in the page's language", async (t) => {
  t.after(() => setCatalog(null));
  setCatalog({
    plural: "0",
    catalog: { "This call is full: a call holds at most %(count)s person.": ["通话已满：最多 %(count)s 人。"] },
  });
  const lines = [];
  const view = { status: (text) => lines.push(text) };
  const session = new CallSession({ client: fakeClient(), view, iceUrl: "/ice", maxParticipants: 2 });
  session.roster.apply({ version: 1, participants: [{ id: "a" }, { id: "b" }] });
  await session.join({ audio: false, video: false });
  assert.deepEqual(lines, ["通话已满：最多 2 人。"]);
});

test("counts are written as the page's language writes numbers", (t) => {
  installGlobals(t, { document: { documentElement: { lang: "de" } } });
  assert.equal(formatNumber(12345), "12.345");
  installGlobals(t, { document: { documentElement: { lang: "ja" } } });
  assert.equal(formatNumber(12345), "12,345");
});
