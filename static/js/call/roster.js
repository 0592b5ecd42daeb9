// The call's roster as the server sends it (`call.roster`, docs/PROTOCOL.md "Calls"): who is in
// the call with their media and mute state. Frames carry a version; an older one than the roster
// already shown is ignored, so changes that cross on the way cannot roll it back.

export class CallRoster {
  constructor() {
    this.version = -1;
    this.participants = new Map(); // id -> {id, user: {id, name}, audio, video, audio_muted, video_muted}
  }

  /**
   * Take a `call.roster` frame; what changed: {joined: [...], left: [...], changed: [...]}
   * (participants as in the frame), or null for a frame older than the roster.
   */
  apply(frame) {
    if (typeof frame?.version !== "number" || !Array.isArray(frame.participants)) return null;
    if (frame.version <= this.version) return null;
    this.version = frame.version;
    const next = new Map(frame.participants.filter((p) => typeof p?.id === "string").map((p) => [p.id, p]));
    const joined = [];
    const changed = [];
    for (const [id, participant] of next) {
      const before = this.participants.get(id);
      if (!before) joined.push(participant);
      else if (!sameState(before, participant)) changed.push(participant);
    }
    const left = [...this.participants.values()].filter((p) => !next.has(p.id));
    this.participants = next;
    return { joined, left, changed };
  }

  get size() {
    return this.participants.size;
  }

  get(id) {
    return this.participants.get(id) ?? null;
  }

  /** Everyone but `myId`, in the order they joined. */
  others(myId) {
    return [...this.participants.values()].filter((p) => p.id !== myId);
  }

  /**
   * Whether `otherId` joined before `myId` (the roster lists participants in the order they
   * joined; someone not in it yet, like a page that just joined, counts as the latest).
   */
  joinedBefore(otherId, myId) {
    const ids = [...this.participants.keys()];
    const other = ids.indexOf(otherId);
    const mine = ids.indexOf(myId);
    return other !== -1 && (mine === -1 || other < mine);
  }

  /** Whether someone not yet in the call would be refused (a call holds at most `max`). */
  isFullFor(myId, max) {
    return !this.participants.has(myId) && this.participants.size >= max;
  }
}

function sameState(a, b) {
  return (
    a.audio === b.audio &&
    a.video === b.video &&
    a.audio_muted === b.audio_muted &&
    a.video_muted === b.video_muted &&
    a.user?.name === b.user?.name
  );
}
