// Clocks tell the renderer what time it is on the comments' timeline, in milliseconds.
//
// A clock is { now() -> ms, generation }: `generation` changes whenever the timeline jumps
// (a seek), so the renderer knows to rebuild the screen instead of animating to the new time.
//
//   VideoClock  recorded video: the <video>'s position. Pausing stops time, seeking jumps it,
//               playbackRate scales it; nothing else is needed for the comments to follow.
//   WallClock   live: performance.now(); comments are placed when they arrive.
//   ManualClock set by hand (tests, benchmarks): time moves only when set() is called.

export class WallClock {
  constructor() {
    this.generation = 0;
  }

  now() {
    return performance.now();
  }
}

export class VideoClock {
  /** @param {HTMLMediaElement} media */
  constructor(media) {
    this.media = media;
    this.generation = 0;
    const bump = () => {
      this.generation += 1;
    };
    // `seeking` moves the position at once; `seeked` again once the new position has data.
    media.addEventListener("seeking", bump);
    media.addEventListener("seeked", bump);
    media.addEventListener("emptied", bump); // a new source starts over at 0
  }

  now() {
    return this.media.currentTime * 1000;
  }

  get paused() {
    return this.media.paused;
  }
}

export class ManualClock {
  constructor(startMs = 0) {
    this.time = startMs;
    this.generation = 0;
  }

  now() {
    return this.time;
  }

  /** Move to `ms`; with `seek`, as a jump (the renderer rebuilds the screen). */
  set(ms, { seek = false } = {}) {
    this.time = ms;
    if (seek) this.generation += 1;
  }
}
