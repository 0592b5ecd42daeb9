// The second, independent load generator: this project's WebSocket viewers written in Node.js
// on the `ws` package (installed from the npm registry at run time by bench/node_viewers.py).
// It shares no code with bench/clients.py: its own client library, its own event loop, its own
// parsing. It measures the same things the same way: each message's text is
// `bench <number> <send time>`, every viewer keeps a bitmap of the numbers it received (exact
// loss and duplicates), latency is arrival minus send time on the same clock, in the buckets
// of bench/histogram.py.
//
// The parent drives it over stdin and stdout, one JSON object a line:
//   first line in:  {"groups": [{"host", "port", "slug", "room", "count"}, ...]}
//   out:            {"type": "ready", "connect_s", "errors"}    once every viewer has its hello
//   in "go":        {"cmd": "go", "total", "rooms"}  -> {"type": "going"}
//   in "collect":   {"cmd": "collect", "drain"}      -> {"type": "report", ...} (bench/load.py's)
//   in "status":    {"cmd": "status"}                -> {"type": "status", ...}
//   in "stop":      {"cmd": "stop"}                  -> {"type": "stopped"}, then exit
"use strict";

const readline = require("node:readline");
const { performance } = require("node:perf_hooks");
const WebSocket = require("ws");

// Handshakes in flight, and how long to wait for everyone: as bench/load.py's workers do.
const HANDSHAKES_IN_FLIGHT = 32;
const CONNECT_TIMEOUT_MS = 300_000;
const HELLO_TIMEOUT_MS = 60_000;
const RECONNECT_DELAY_MS = 1_000;
const STILL_ARRIVING_MS = 500;

const POST_PATTERN = /"text":"bench (\d+) (\d+\.\d+)"/g;
const LAST_SEQ_PATTERN = /"last_seq":(\d+)/;
const FRAME_TYPE_PATTERN = /^\{"type":"([a-z_]+)"/;

// bench/histogram.py's buckets: 0.1 ms below 100 ms, 1 ms below 10 s, 10 ms below 120 s.
const FINE = 1000;
const MEDIUM = 9900;
const COARSE = 11000;
const BUCKETS = FINE + MEDIUM + COARSE + 1;

function bucketOf(ms) {
  if (ms < 100) return ms > 0 ? Math.floor(ms * 10) : 0;
  if (ms < 10_000) return FINE + Math.floor(ms - 100);
  if (ms < 120_000) return FINE + MEDIUM + Math.floor((ms - 10_000) / 10);
  return BUCKETS - 1;
}

const nowMs = () => performance.timeOrigin + performance.now();

const tally = {
  histogram: new Float64Array(BUCKETS),
  maxMs: 0,
  duplicates: 0,
  reordered: 0,
  resets: 0,
  reconnects: 0,
  errors: {},
  otherFrames: {},
  firstArrival: 0,
  lastArrival: 0,
};

function count(table, kind) {
  table[kind] = (table[kind] || 0) + 1;
}

class Viewer {
  constructor(group) {
    this.group = group;
    this.seen = null; // a bitmap of post numbers, allocated at "go"
    this.expected = 0;
    this.got = 0;
    this.lastNumber = -1;
    this.cursor = null; // the last seq seen: where a reconnect resumes
    this.ready = false;
    this.socket = null;
    this.stopped = false;
    this.releaseSlot = () => {};
    this.whenReady = () => {};
  }

  expect(total, rooms) {
    this.seen = new Uint8Array(total);
    this.expected = Math.floor(total / rooms) + (this.group.room < total % rooms ? 1 : 0);
  }

  record(text, now) {
    const seen = this.seen;
    if (seen === null) return;
    POST_PATTERN.lastIndex = 0;
    let found = false;
    for (let match = POST_PATTERN.exec(text); match !== null; match = POST_PATTERN.exec(text)) {
      found = true;
      const number = Number(match[1]);
      if (number >= seen.length) continue;
      if (seen[number]) {
        tally.duplicates += 1;
        continue;
      }
      seen[number] = 1;
      this.got += 1;
      if (number < this.lastNumber) tally.reordered += 1;
      this.lastNumber = number;
      const ms = now - Number(match[2]) * 1000;
      tally.histogram[bucketOf(ms)] += 1;
      if (ms > tally.maxMs) tally.maxMs = ms;
    }
    if (found) {
      if (!tally.firstArrival) tally.firstArrival = now;
      tally.lastArrival = now;
    }
  }

  onMessage(data) {
    const now = nowMs();
    const text = data.toString("latin1"); // the fields read are ASCII
    if (text.startsWith('{"type":"events"')) {
      this.record(text, now);
      const last = text.lastIndexOf('{"seq":');
      if (last >= 0) this.cursor = parseInt(text.slice(last + 7), 10);
      return;
    }
    const match = FRAME_TYPE_PATTERN.exec(text);
    const kind = match ? match[1] : "?";
    if (kind === "hello") {
      if (this.cursor === null) this.cursor = Number(LAST_SEQ_PATTERN.exec(text)[1]);
      this.releaseSlot();
      if (!this.ready) {
        this.ready = true;
        this.whenReady();
      }
    } else if (kind === "reset") {
      tally.resets += 1;
      this.cursor = Number(LAST_SEQ_PATTERN.exec(text)[1]);
    } else if (kind !== "presence") {
      // As bench/clients.py: counted by name; a resync request is answered by reconnecting.
      count(tally.otherFrames, kind);
      if (kind.includes("resync")) this.socket.close(1000);
    }
  }

  // Connects (once a handshake slot is free) and reconnects from the cursor until stopped; the
  // slot is held until the server's hello, as bench/clients.py holds its semaphore.
  connect(slots) {
    slots.acquire(() => {
      if (this.stopped) return slots.release();
      let held = true;
      this.releaseSlot = () => {
        if (held) {
          held = false;
          slots.release();
        }
      };
      const { host, port, slug } = this.group;
      const query = this.cursor === null ? "" : `?after=${this.cursor}`;
      const socket = new WebSocket(`ws://${host}:${port}/ws/rooms/${slug}/${query}`, {
        perMessageDeflate: false, // as bench/clients.py: no extension offered
        skipUTF8Validation: true,
        handshakeTimeout: HELLO_TIMEOUT_MS,
      });
      this.socket = socket;
      // As bench/clients.py's wait for the hello: a connection without one is dropped and retried.
      const helloTimer = setTimeout(() => {
        if (held) {
          count(tally.errors, "TimeoutError");
          socket.terminate();
        }
      }, HELLO_TIMEOUT_MS);
      socket.on("message", (data) => this.onMessage(data));
      socket.on("error", (error) => count(tally.errors, error.code || error.message));
      socket.on("close", () => {
        clearTimeout(helloTimer);
        this.releaseSlot();
        this.socket = null;
        if (this.stopped) return;
        tally.reconnects += 1;
        setTimeout(() => this.connect(slots), this.ready ? 0 : RECONNECT_DELAY_MS);
      });
    });
  }

  stop() {
    this.stopped = true;
    if (this.socket) this.socket.close(1000);
  }
}

class Slots {
  constructor(size) {
    this.free = size;
    this.waiting = [];
  }

  acquire(job) {
    if (this.free > 0) {
      this.free -= 1;
      job();
    } else {
      this.waiting.push(job);
    }
  }

  release() {
    const next = this.waiting.shift();
    if (next) next();
    else this.free += 1;
  }
}

const viewers = [];
let cpuAtGo = process.cpuUsage();

function send(message) {
  process.stdout.write(JSON.stringify(message) + "\n");
}

function cpuSecondsSince(start) {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

async function connectAll(groups) {
  const started = nowMs();
  const slots = new Slots(HANDSHAKES_IN_FLIGHT);
  const readiness = [];
  for (const group of groups) {
    for (let i = 0; i < group.count; i += 1) {
      const viewer = new Viewer(group);
      viewers.push(viewer);
      readiness.push(new Promise((resolve) => (viewer.whenReady = resolve)));
      viewer.connect(slots);
    }
  }
  let timer;
  const timeout = new Promise((resolve) => (timer = setTimeout(resolve, CONNECT_TIMEOUT_MS)));
  await Promise.race([Promise.all(readiness), timeout]);
  clearTimeout(timer);
  const missing = viewers.filter((viewer) => !viewer.ready).length;
  if (missing) count(tally.errors, `not_connected_after_${CONNECT_TIMEOUT_MS / 1000}s:${missing}`);
  send({ type: "ready", connect_s: (nowMs() - started) / 1000, errors: tally.errors });
}

function report() {
  const total = viewers.length ? viewers[0].seen?.length || 0 : 0;
  const counts = new Array(total).fill(0);
  for (const viewer of viewers) {
    const seen = viewer.seen;
    if (!seen) continue;
    for (let number = 0; number < total; number += 1) counts[number] += seen[number];
  }
  const sparse = {};
  tally.histogram.forEach((value, index) => {
    if (value) sparse[index] = value;
  });
  const incomplete = viewers.some((viewer) => viewer.got < viewer.expected);
  return {
    type: "report",
    viewers: viewers.length,
    expected: viewers.reduce((sum, viewer) => sum + viewer.expected, 0),
    delivered: viewers.reduce((sum, viewer) => sum + viewer.got, 0),
    counts,
    duplicates: tally.duplicates,
    reordered: tally.reordered,
    resets: tally.resets,
    reconnects: tally.reconnects,
    errors: tally.errors,
    other_frames: tally.otherFrames,
    histogram: [sparse, tally.maxMs],
    first_arrival: tally.firstArrival / 1000,
    last_arrival: tally.lastArrival / 1000,
    still_arriving: incomplete && nowMs() - tally.lastArrival < STILL_ARRIVING_MS,
    cpu_s: cpuSecondsSince(cpuAtGo),
  };
}

function collect(drainSeconds) {
  const deadline = nowMs() + drainSeconds * 1000;
  const check = () => {
    const waiting = viewers.some((viewer) => viewer.got < viewer.expected);
    if (waiting && nowMs() < deadline) setTimeout(check, 50);
    else send(report());
  };
  check();
}

function command(line) {
  const message = JSON.parse(line);
  if (message.cmd === "go") {
    for (const viewer of viewers) viewer.expect(message.total, message.rooms);
    tally.reconnects = 0;
    cpuAtGo = process.cpuUsage();
    send({ type: "going" });
  } else if (message.cmd === "collect") {
    collect(message.drain);
  } else if (message.cmd === "status") {
    send({
      type: "status",
      ready: viewers.filter((viewer) => viewer.ready).length,
      running: viewers.filter((viewer) => viewer.socket !== null).length,
      reconnects: tally.reconnects,
      errors: tally.errors,
    });
  } else if (message.cmd === "stop") {
    for (const viewer of viewers) viewer.stop();
    // Let the close frames go out, as bench/load.py's workers do.
    setTimeout(() => {
      send({ type: "stopped" });
      process.exit(0);
    }, 200);
  } else {
    throw new Error(`unknown command ${JSON.stringify(message)}`);
  }
}

const input = readline.createInterface({ input: process.stdin });
let spec = null;
input.on("line", (line) => {
  if (spec === null) {
    spec = JSON.parse(line);
    connectAll(spec.groups);
  } else {
    command(line);
  }
});
input.on("close", () => process.exit(0));
