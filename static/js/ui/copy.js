// Copy buttons: `<button data-copy="ID">` copies the text of the element with that id, and says
// so in `[data-copy-status="ID"]` (a live region) for a few seconds.

import { gettext } from "./i18n.js";

export const COPIED_SHOWN_MS = 3000;

/** Copy `source`'s text with `clipboard` (navigator.clipboard) and report in `status`. */
export async function copyText(source, status, clipboard, { later = setTimeout } = {}) {
  try {
    await clipboard.writeText(source.textContent.trim());
    status.textContent = gettext("Copied");
  } catch {
    // Refused (no permission, not a secure page): select it, so a keyboard copy takes it.
    status.textContent = gettext("Press Ctrl+C to copy");
    source.ownerDocument?.getSelection?.()?.selectAllChildren(source);
  }
  later(() => {
    status.textContent = "";
  }, COPIED_SHOWN_MS);
}

/** Wire every copy button of `doc`. */
export function wireCopyButtons(doc, clipboard) {
  for (const button of doc.querySelectorAll("[data-copy]")) {
    const id = button.dataset.copy;
    const source = doc.getElementById(id);
    const status = doc.querySelector(`[data-copy-status="${id}"]`);
    if (source && status) button.addEventListener("click", () => copyText(source, status, clipboard));
  }
}
