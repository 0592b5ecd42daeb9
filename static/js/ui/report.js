// Reporting a message from the room page: a Report button on other people's lines opens a small
// form (the message quoted, a reason); sending it posts POST /rooms/<slug>/report
// (docs/PROTOCOL.md "Reports") and says whether the moderators got it.

import { csrfToken } from "../client/post.js";
import { gettext, interpolate } from "./i18n.js";

// A report with no answer by then is reported as failed.
const REPORT_TIMEOUT_MS = 15_000;

// In the page's language when shown (ui/i18n.js).
const ERROR_TEXTS = {
  own_message: () => gettext("You cannot report your own message."),
  not_found: () => gettext("That message is gone already."),
  rate_limited: () => gettext("You have sent many reports; wait a minute before the next."),
  login_required: () => gettext("Log in to report messages."),
};

/** POST a report; resolves with the server's JSON answer, or {code, message} for a failure. */
export async function sendReport(url, id, reason, fetcher = fetch) {
  const headers = { "Content-Type": "application/json", Accept: "application/json" };
  const token = csrfToken();
  if (token) headers["X-CSRFToken"] = token;
  try {
    const answer = await fetcher(url, {
      method: "POST",
      headers,
      credentials: "same-origin",
      body: JSON.stringify({ id, reason }),
      signal: AbortSignal.timeout(REPORT_TIMEOUT_MS),
    });
    const body = await answer.json().catch(() => null);
    if (answer.ok && body?.reported) return body;
    if (body?.code) return body;
    const message = interpolate(gettext("The report was not sent (HTTP %(status)s)."), { status: answer.status });
    return { code: "http_error", message };
  } catch {
    return { code: "network", message: gettext("The report was not sent: no connection to the server.") };
  }
}

/** The sentence for a report's outcome. */
export function reportOutcome(answer) {
  if (answer.reported) return gettext("Reported. Thank you: the room's moderators will look at it.");
  return ERROR_TEXTS[answer.code]?.() ?? answer.message ?? gettext("The report was not sent.");
}

export class ReportForm {
  /**
   * @param {{form: HTMLFormElement, quote: HTMLElement, reason: HTMLInputElement, status: HTMLElement,
   *   cancel: HTMLElement}} parts
   * @param {{url: string, meId: number|null, send?: typeof sendReport}} options
   */
  constructor(parts, { url, meId, send = sendReport }) {
    Object.assign(this, { parts, url, meId, send });
    this.target = null;
    parts.form.addEventListener("submit", (submit) => {
      submit.preventDefault();
      this.submit();
    });
    parts.cancel.addEventListener("click", () => this.close());
  }

  /** MessageList's `decorate`: a Report button on the lines of other people's messages. */
  decorate(item, event) {
    if (this.meId === null || !event.user || event.user.id === this.meId) return;
    if (event.kind !== "message" && event.kind !== "danmaku") return;
    const control = document.createElement("button");
    control.type = "button";
    control.className = "link-button msg-report";
    control.textContent = gettext("Report");
    control.dataset.testid = "report";
    control.addEventListener("click", () => this.open(event));
    item.append(control);
  }

  open(event) {
    this.target = event;
    // Name and text each in a <bdi>: an override in one cannot reorder the other or the colon.
    const author = document.createElement("bdi");
    author.className = "report-author";
    author.textContent = event.user?.name ?? gettext("someone");
    const text = document.createElement("bdi");
    text.className = "report-text";
    text.textContent = event.text ?? "";
    this.parts.quote.replaceChildren(author, ": ", text);
    this.parts.reason.value = "";
    this.parts.status.textContent = "";
    this.parts.form.hidden = false;
    this.parts.reason.focus();
  }

  close() {
    this.target = null;
    this.parts.form.hidden = true;
  }

  async submit() {
    const reason = this.parts.reason.value.trim();
    if (this.target === null || reason === "") return;
    const answer = await this.send(this.url, this.target.id, reason);
    this.parts.status.textContent = reportOutcome(answer);
    this.parts.status.dataset.outcome = answer.reported ? "sent" : "error";
    if (answer.reported) this.parts.reason.value = "";
  }
}
