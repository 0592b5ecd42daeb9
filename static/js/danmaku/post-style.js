// The style a viewer posts comments in on the watch page (position, size, colour), chosen in the
// composer and remembered in this browser.

import { MODES } from "./renderer.js";
import { SIZES } from "./sprites.js";

export const STYLE_KEY = "danmaku:post-style";
const COLOR_PATTERN = /^#[0-9a-f]{6}$/;

/** The valid parts of a remembered style (anything else is dropped). */
export function cleanStyle(saved) {
  const style = {};
  if (MODES.includes(saved?.mode)) style.mode = saved.mode;
  if (SIZES.includes(saved?.size)) style.size = saved.size;
  if (COLOR_PATTERN.test(saved?.color ?? "")) style.color = saved.color;
  return style;
}

export function loadStyle(storage = globalThis.localStorage) {
  try {
    return cleanStyle(JSON.parse(storage?.getItem(STYLE_KEY) ?? "null"));
  } catch {
    return {};
  }
}

export function saveStyle(style, storage = globalThis.localStorage) {
  try {
    storage?.setItem(STYLE_KEY, JSON.stringify(style));
  } catch {
    // storage disabled: the style still applies on this page
  }
}

/**
 * Show the remembered style in the composer's controls ({mode, size, color} selects and colour
 * input, and its [data-color] swatches) and remember every change; returns a function that
 * reads the style to post with.
 */
export function bindPostStyle(form, { mode, size, color }) {
  const saved = loadStyle();
  if (saved.mode) mode.value = saved.mode;
  if (saved.size) size.value = saved.size;
  if (saved.color) color.value = saved.color;
  const remember = () => saveStyle({ mode: mode.value, size: size.value, color: color.value });
  for (const control of [mode, size, color]) control.addEventListener("change", remember);
  for (const swatch of form.querySelectorAll("[data-color]")) {
    swatch.addEventListener("click", () => {
      color.value = swatch.dataset.color;
      remember();
    });
  }
  return () => ({ mode: mode.value, color: color.value.toLowerCase(), size: size.value });
}
