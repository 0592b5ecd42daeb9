// The moderator's page's notice line: the outcome of the last action, or what went wrong.

import { loginAddress, requestErrorText } from "../ui/error-texts.js";
import { gettext, interpolate } from "../ui/i18n.js";
import { element } from "./dom.js";

// An outcome shows this long; an error stays until the next notice.
const NOTICE_HIDE_MS = 8_000;

export class Notice {
  /** @param {HTMLElement} box */
  constructor(box) {
    this.box = box;
    this.timer = null;
  }

  /** Show `text`; kind "ok" (hides by itself) or "error" (announced as an alert). */
  show(text, kind = "ok") {
    clearTimeout(this.timer);
    this.box.replaceChildren(element("span", "", text));
    this.box.dataset.kind = kind;
    this.box.setAttribute("role", kind === "error" ? "alert" : "status");
    this.box.hidden = false;
    if (kind !== "error") this.timer = setTimeout(() => (this.box.hidden = true), NOTICE_HIDE_MS);
  }

  /** Report that `what` failed, and why ("Could not ban bob: ..."). */
  error(error, what) {
    console.warn("moderate:", what, error);
    this.show(interpolate(gettext("%(what)s: %(reason)s"), { what, reason: requestErrorText(error) }), "error");
    if (error.code === "login_required") {
      const link = element("a", "", gettext("Log in"));
      link.href = loginAddress(window.location.pathname);
      this.box.append(" ", link);
    }
  }
}
