// One peer connection of the mesh, negotiated with the "perfect negotiation" pattern of the
// WebRTC specification: either side may (re)negotiate at any time; when both offer at once the
// impolite side ignores the other's offer and the polite side rolls its own back. Which side is
// polite is decided by the participant ids, so both ends agree without asking.
//
// The peer connection and the way signals go out are given (a real RTCPeerConnection and the
// room's WebSocket in the page, fakes in the unit tests).

/** The side with the greater participant id is polite. */
export function isPolite(myId, theirId) {
  return myId > theirId;
}

export class PeerLink {
  /**
   * @param {object} options
   *   pc       an RTCPeerConnection (or a stand-in with the same methods and events)
   *   polite   whether this side yields when offers collide
   *   send(signal)  sends {kind: "offer"|"answer", sdp} or {kind: "candidate", candidate, sdp_mid, sdp_mline_index}
   *   onError(error)  a signal could not be applied
   */
  constructor({ pc, polite, send, onError = (error) => console.warn("call:", error) }) {
    Object.assign(this, { pc, polite, send, onError });
    this.makingOffer = false;
    this.ignoreOffer = false;
    this.closed = false;
    pc.onnegotiationneeded = () => this._offer();
    // A path that stopped working (a network change, a NAT binding gone): gather again and
    // renegotiate (restartIce makes negotiationneeded fire), on either side.
    pc.oniceconnectionstatechange = () => {
      if (pc.iceConnectionState === "failed" && !this.closed) pc.restartIce?.();
    };
    pc.onicecandidate = ({ candidate }) => {
      if (!candidate || !candidate.candidate) return; // the end of gathering needs no message
      this.send({
        kind: "candidate",
        candidate: candidate.candidate,
        sdp_mid: candidate.sdpMid ?? null,
        sdp_mline_index: candidate.sdpMLineIndex ?? null,
      });
    };
  }

  /** Add the local media: each track starts a negotiation (onnegotiationneeded). */
  addStream(stream) {
    for (const track of stream.getTracks()) this.pc.addTrack(track, stream);
  }

  /**
   * The side that offers: its media, and a receive-only line for each kind it does not send,
   * so the first offer already carries audio and video whatever either side has (no second
   * negotiation for the other side's camera when this one joined with a microphone only).
   */
  offerMedia(stream) {
    const tracks = stream ? stream.getTracks() : [];
    for (const track of tracks) this.pc.addTrack(track, stream);
    for (const kind of ["audio", "video"]) {
      if (!tracks.some((track) => track.kind === kind)) this.pc.addTransceiver(kind, { direction: "recvonly" });
    }
  }

  async _offer() {
    if (this.closed) return;
    try {
      this.makingOffer = true;
      await this.pc.setLocalDescription();
      this.send({ kind: "offer", sdp: this.pc.localDescription.sdp });
    } catch (error) {
      this.onError(error);
    } finally {
      this.makingOffer = false;
    }
  }

  /** A `call.signal` frame from the other side. */
  async receive(signal) {
    if (this.closed) return;
    try {
      if (signal.kind === "offer" || signal.kind === "answer") {
        const collision = signal.kind === "offer" && (this.makingOffer || this.pc.signalingState !== "stable");
        this.ignoreOffer = !this.polite && collision;
        if (this.ignoreOffer) return;
        await this.pc.setRemoteDescription({ type: signal.kind, sdp: signal.sdp });
        if (signal.kind === "offer") {
          await this.pc.setLocalDescription();
          this.send({ kind: "answer", sdp: this.pc.localDescription.sdp });
        }
      } else if (signal.kind === "candidate") {
        try {
          await this.pc.addIceCandidate({
            candidate: signal.candidate,
            sdpMid: signal.sdp_mid,
            sdpMLineIndex: signal.sdp_mline_index,
          });
        } catch (error) {
          if (!this.ignoreOffer) throw error; // a candidate of the offer we ignored
        }
      }
    } catch (error) {
      this.onError(error);
    }
  }

  close() {
    this.closed = true;
    this.pc.onnegotiationneeded = null;
    this.pc.onicecandidate = null;
    this.pc.oniceconnectionstatechange = null;
    this.pc.close();
  }
}
