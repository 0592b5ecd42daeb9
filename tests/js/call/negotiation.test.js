import assert from "node:assert/strict";
import { test } from "node:test";

import { isPolite, PeerLink } from "../../../static/js/call/negotiation.js";
import { FakePeerConnection, fakeStream } from "./fake-rtc.js";

/** Let the timers and promises of a few round trips run. */
async function settle(rounds) {
  for (let round = 0; round < rounds; round++) await new Promise((resolve) => setTimeout(resolve, 0));
}

/** Two links wired to each other through an asynchronous "server"; what each sent. */
function pair() {
  const sent = { a: [], b: [] };
  const links = {};
  const deliver = (to, signal) => setTimeout(() => links[to].receive(signal), 0);
  const errors = [];
  links.a = new PeerLink({
    pc: new FakePeerConnection({}, "a"),
    polite: isPolite("a", "b"),
    send: (signal) => (sent.a.push(signal), deliver("b", signal)),
    onError: (error) => errors.push(error),
  });
  links.b = new PeerLink({
    pc: new FakePeerConnection({}, "b"),
    polite: isPolite("b", "a"),
    send: (signal) => (sent.b.push(signal), deliver("a", signal)),
    onError: (error) => errors.push(error),
  });
  return { links, sent, errors };
}

test("the side with the greater id is polite, and both sides agree", () => {
  assert.equal(isPolite("b", "a"), true);
  assert.equal(isPolite("a", "b"), false);
});

test("one side's media makes an offer, the other answers, and both end stable", async () => {
  const { links, sent, errors } = pair();
  links.a.addStream(fakeStream("audio", "video"));
  await settle(30);
  assert.deepEqual(
    sent.a.map((s) => s.kind),
    ["offer"],
  );
  assert.deepEqual(
    sent.b.map((s) => s.kind),
    ["answer"],
  );
  assert.equal(links.a.pc.signalingState, "stable");
  assert.equal(links.b.pc.signalingState, "stable");
  assert.equal(links.b.pc.remoteDescription.sdp, sent.a[0].sdp);
  assert.deepEqual(errors, []);
});

test("offers that collide: the impolite side ignores, the polite side rolls back and answers", async () => {
  const { links, sent, errors } = pair();
  links.a.addStream(fakeStream("audio"));
  links.b.addStream(fakeStream("audio"));
  await settle(60);
  assert.equal(links.a.pc.signalingState, "stable");
  assert.equal(links.b.pc.signalingState, "stable");
  assert.equal(links.b.pc.rollbacks, 1); // b is polite
  assert.equal(links.a.pc.rollbacks, 0);
  // a's offer won: b answered it, and a took b's answer
  assert.equal(links.b.pc.remoteDescription.sdp, sent.a[0].sdp);
  assert.equal(links.a.pc.remoteDescription.type, "answer");
  assert.deepEqual(errors, []);
});

test("candidates go out with their line, and those of an ignored offer are dropped quietly", async () => {
  const { links, sent, errors } = pair();
  links.a.pc.onicecandidate({ candidate: { candidate: "candidate:1 1 udp 9 127.0.0.1 5000 typ host", sdpMid: "0", sdpMLineIndex: 0 } });
  links.a.pc.onicecandidate({ candidate: null }); // the end of gathering: nothing to send
  assert.deepEqual(sent.a, [
    { kind: "candidate", candidate: "candidate:1 1 udp 9 127.0.0.1 5000 typ host", sdp_mid: "0", sdp_mline_index: 0 },
  ]);
  // a is impolite and busy with its own offer: b's colliding offer and its candidate are ignored
  links.a.makingOffer = true;
  await links.a.receive({ kind: "offer", sdp: "offer b" });
  await links.a.receive({ kind: "candidate", candidate: "candidate:2", sdp_mid: "0", sdp_mline_index: 0 });
  assert.deepEqual(errors, []);
  // without an ignored offer, a candidate that cannot be applied is reported
  links.a.ignoreOffer = false;
  await links.a.receive({ kind: "candidate", candidate: "candidate:3", sdp_mid: "0", sdp_mline_index: 0 });
  assert.equal(errors.length, 1);
});

test("a closed link takes no more signals", async () => {
  const { links } = pair();
  links.b.close();
  assert.equal(links.b.pc.closed, true);
  await links.b.receive({ kind: "offer", sdp: "late" });
  assert.equal(links.b.pc.remoteDescription, null);
});

test("a failed ICE connection is restarted", () => {
  const { links } = pair();
  let restarts = 0;
  links.a.pc.restartIce = () => (restarts += 1);
  links.a.pc.iceConnectionState = "checking";
  links.a.pc.oniceconnectionstatechange();
  assert.equal(restarts, 0);
  links.a.pc.iceConnectionState = "failed";
  links.a.pc.oniceconnectionstatechange();
  assert.equal(restarts, 1);
});
