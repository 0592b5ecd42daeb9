// Which transport RoomClient's next attempt uses (realtime.js): the first that works of the
// page's transports, in order of preference (WebSocket, SSE, long-poll).
//
// An attempt fails when its connection closes, or says nothing for a while, before its hello.
// After FALLBACK_AFTER_FAILURES consecutive failed attempts of a transport that has never been
// live on this page, the next one is tried (after the last, the first again). A transport that
// has been live here gets PROVEN_FALLBACK_AFTER_FAILURES: a server restart makes every transport
// fail for a while, and that is no reason to leave the one that works. Live on a lower
// transport, the client now and then opens the ones above it in the background (probes, after
// UPGRADE_PROBE_MS with jitter, doubling up to UPGRADE_PROBE_MAX_MS) and moves up as soon as one
// says hello. Moved down from a transport that had been live here (most likely a server restart
// or a network change, not a proxy that never passes it), the first probe comes after
// PROVEN_UPGRADE_PROBE_MS instead, so the page is back on WebSocket seconds after the server. Given a single transport (the page's ?transport=), it never falls back.

// Two, not one, so a single network hiccup does not demote the WebSocket; the backoff between
// the two attempts is under a second.
export const FALLBACK_AFTER_FAILURES = 2;
// The same for a transport that has been live on this page: more patience, see the top.
export const PROVEN_FALLBACK_AFTER_FAILURES = 5;
// Live on a fallback transport, when to try the preferred ones again (doubling each time).
export const UPGRADE_PROBE_MS = 60_000;
export const UPGRADE_PROBE_MAX_MS = 15 * 60_000;
// The first probe after leaving a transport that had been live on this page.
export const PROVEN_UPGRADE_PROBE_MS = 5_000;

export class TransportLadder {
  /** @param {object[]} transports the supported ones, in order of preference */
  constructor(transports) {
    this.transports = transports;
    this.level = 0; // index of the transport attempts use
    this.failures = 0; // consecutive attempts of it that failed before hello
    this.proven = new Set(); // transports that have been live on this page
    this.probeDelayMs = UPGRADE_PROBE_MS;
  }

  /** The transport the next attempt uses. */
  get current() {
    return this.transports[this.level];
  }

  /** `transport` said hello: it has proven itself, and its failures start over. */
  live(transport) {
    this.proven.add(transport);
    this.failures = 0;
  }

  /** One more failed attempt of `transport`; returns the next transport when that many moves down, else null. */
  failed(transport) {
    this.failures += 1;
    const limit = this.proven.has(transport) ? PROVEN_FALLBACK_AFTER_FAILURES : FALLBACK_AFTER_FAILURES;
    if (this.transports.length < 2 || this.failures < limit) return null;
    this.level = (this.level + 1) % this.transports.length;
    this.failures = 0;
    if (this.transports.slice(0, this.level).some((better) => this.proven.has(better))) {
      this.probeDelayMs = PROVEN_UPGRADE_PROBE_MS;
    }
    return this.current;
  }

  /** When to probe the better transports, with jitter; null when already on the best. */
  probeDelay(random = Math.random) {
    if (this.level === 0) return null;
    return Math.floor(this.probeDelayMs * (0.5 + 0.5 * random()));
  }

  /** Every better transport failed its probe: wait twice as long before the next round. */
  probesFailed() {
    this.probeDelayMs = Math.min(this.probeDelayMs * 2, UPGRADE_PROBE_MAX_MS);
  }

  /** A probe of `transport` said hello: attempts use it from now on. */
  adopt(transport) {
    this.level = this.transports.indexOf(transport);
    this.failures = 0;
    this.probeDelayMs = UPGRADE_PROBE_MS;
  }
}
