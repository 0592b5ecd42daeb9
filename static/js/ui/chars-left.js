// "12 characters left" under the composer as a message nears the server's limit
// (MESSAGE_MAX_CHARS, given to the page as data-max): characters are counted as the server
// counts them, by code point, so an emoji is one. Past the limit it says by how much, and the
// server refuses the message with `too_long` if it is sent anyway.

import { interpolate, ngettext } from "./i18n.js";

// The count shows once this share of the limit is used.
export const SHOW_FROM_SHARE = 0.8;

/** The counter's text for `text` against `max`, or null while it is not worth showing. */
export function charsLeftText(text, max) {
  const used = [...text].length;
  if (used < max * SHOW_FROM_SHARE) return null;
  const left = max - used;
  if (left >= 0) {
    return interpolate(ngettext("%(count)s character left", "%(count)s characters left", left), { count: left });
  }
  const over = ngettext("%(count)s character over the limit", "%(count)s characters over the limit", -left);
  return interpolate(over, { count: -left });
}

/** Keep `output` up to date as `input` changes (typing, pasting, the composer emptying it). */
export function wireCharsLeft(input, output, max) {
  if (!Number.isSafeInteger(max) || max <= 0) return () => {};
  const update = () => {
    const text = charsLeftText(input.value, max);
    output.hidden = text === null;
    output.textContent = text ?? "";
    output.dataset.over = String(text !== null && [...input.value].length > max);
  };
  input.addEventListener("input", update);
  update();
  return update;
}
