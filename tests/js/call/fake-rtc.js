// A stand-in for RTCPeerConnection with its signalling state machine (offer/answer, implicit
// rollback, candidates needing a remote description), enough for the negotiation logic.

let counter = 0;

export class FakePeerConnection {
  constructor(config = {}, name = "pc") {
    this.config = config;
    this.name = name;
    this.signalingState = "stable";
    this.localDescription = null;
    this.remoteDescription = null;
    this.tracks = [];
    this.candidates = [];
    this.rollbacks = 0;
    this.closed = false;
    this.onnegotiationneeded = null;
    this.onicecandidate = null;
    this.ontrack = null;
    this._negotiationQueued = false;
  }

  addTrack(track) {
    this.tracks.push(track);
    if (this._negotiationQueued) return; // one negotiationneeded for tracks added together
    this._negotiationQueued = true;
    setTimeout(() => {
      this._negotiationQueued = false;
      // As browsers do: only when stable, and not for tracks an answer already carries.
      if (this.signalingState === "stable" && !this.remoteDescription) this.onnegotiationneeded?.();
    }, 0);
  }

  addTransceiver(kind, init) {
    this.transceivers = [...(this.transceivers ?? []), { kind, direction: init?.direction }];
    this.addTrack({ kind, receiveOnly: true });
    this.tracks.pop();
  }

  async setLocalDescription() {
    await Promise.resolve();
    if (this.signalingState === "stable") {
      counter += 1;
      this.localDescription = { type: "offer", sdp: `offer ${this.name} ${counter}` };
      this.signalingState = "have-local-offer";
    } else if (this.signalingState === "have-remote-offer") {
      this.localDescription = { type: "answer", sdp: `answer ${this.name}` };
      this.signalingState = "stable";
    } else {
      throw new Error(`InvalidStateError: setLocalDescription in ${this.signalingState}`);
    }
  }

  async setRemoteDescription(description) {
    await Promise.resolve();
    if (description.type === "offer") {
      if (this.signalingState === "have-local-offer") this.rollbacks += 1; // implicit rollback
      this.remoteDescription = description;
      this.signalingState = "have-remote-offer";
    } else {
      if (this.signalingState !== "have-local-offer") {
        throw new Error(`InvalidStateError: an answer in ${this.signalingState}`);
      }
      this.remoteDescription = description;
      this.signalingState = "stable";
    }
  }

  async addIceCandidate(candidate) {
    await Promise.resolve();
    if (!this.remoteDescription) throw new Error("InvalidStateError: no remote description");
    this.candidates.push(candidate);
  }

  close() {
    this.closed = true;
  }
}

export function fakeTrack(kind) {
  return { kind, enabled: true, stopped: false, stop() { this.stopped = true; } };
}

export function fakeStream(...kinds) {
  const tracks = kinds.map(fakeTrack);
  return { getTracks: () => tracks };
}
