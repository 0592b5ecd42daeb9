// window.danmaku: a read-only view of a page's renderer for tests, benchmarks and curious
// people in the console. It exposes state, never a way in: nothing here changes the page.

/** Install window.danmaku for `renderer`; `extra` adds more getters (e.g. the settings). */
export function exposeRenderer(renderer, extra = {}) {
  const handle = Object.freeze({
    /** The comments on screen: text, mode, track {type, row, rows}, rectangle {x, y, w, h}. */
    snapshot: () => renderer.snapshot(),
    /** Frame times, frame cost, on-screen counts, admitted and dropped counters. */
    stats: () => renderer.stats(),
    /** Start the frame statistics and the on-screen maximum afresh. */
    resetStats: () => renderer.resetStats(),
    ...extra,
  });
  Object.defineProperty(window, "danmaku", { value: handle, configurable: true });
  return handle;
}
