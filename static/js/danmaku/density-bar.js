// The density curve drawn behind the seek bar, and the time under the pointer while hovering it.

import { DensityCurve, columns } from "./density-curve.js";
import { formatTime } from "./player-keys.js";

// Buckets asked for: one every few pixels of a seek bar.
const BUCKETS = 100;
const FILL = "rgba(0, 161, 214, 0.55)";

export class DensityBar {
  /**
   * @param {{canvas: HTMLCanvasElement, seek: HTMLInputElement, hoverTime: HTMLElement|null,
   *          url: string, duration: () => number}} parts
   */
  constructor({ canvas, seek, hoverTime, url, duration }) {
    this.canvas = canvas;
    this.seek = seek;
    this.hoverTime = hoverTime;
    this.url = url;
    this.duration = duration;
    this.curve = new DensityCurve();
    if (typeof ResizeObserver === "function") new ResizeObserver(() => this.draw()).observe(canvas);
    seek.addEventListener("pointermove", (event) => this._hover(event));
    seek.addEventListener("pointerleave", () => {
      if (this.hoverTime) this.hoverTime.hidden = true;
    });
  }

  async load() {
    try {
      const answer = await fetch(`${this.url}?buckets=${BUCKETS}`, { headers: { Accept: "application/json" } });
      if (!answer.ok) return;
      this.curve = new DensityCurve(await answer.json());
      this.draw();
    } catch {
      // No curve is a bar like any other: the player works without it.
    }
  }

  /** New comments from the stream: each recorded one counts where it belongs. */
  apply(events) {
    let changed = false;
    for (const event of events) {
      if (event.kind === "danmaku" && this.curve.add(event.video_ms)) changed = true;
    }
    if (changed) this.draw();
  }

  draw() {
    const { canvas } = this;
    const ratio = globalThis.devicePixelRatio || 1;
    const width = Math.round(canvas.clientWidth * ratio);
    const height = Math.round(canvas.clientHeight * ratio);
    if (canvas.width !== width) canvas.width = width;
    if (canvas.height !== height) canvas.height = height;
    const context = canvas.getContext("2d");
    context.clearRect(0, 0, width, height);
    context.fillStyle = FILL;
    for (const column of columns(this.curve.heights(), width, height)) {
      if (column.h > 0) context.fillRect(column.x, column.y, column.w, column.h);
    }
    canvas.dataset.buckets = String(this.curve.counts.length);
  }

  _hover(event) {
    const { hoverTime, seek } = this;
    const duration = this.duration();
    if (!hoverTime || !Number.isFinite(duration) || duration <= 0) return;
    const box = seek.getBoundingClientRect();
    const fraction = Math.min(1, Math.max(0, (event.clientX - box.left) / box.width));
    hoverTime.textContent = formatTime(fraction * duration);
    hoverTime.style.left = `${fraction * 100}%`;
    hoverTime.hidden = false;
  }
}
