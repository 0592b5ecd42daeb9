// Reported messages in the review queue: each with the count of people who reported it and
// their latest reasons; a moderator deletes the message or dismisses the reports. The list
// comes with the review queue's answer (`reports`, polled: reports are not room events).

import { gettext, interpolate, ngettext } from "../ui/i18n.js";
import { button, element, formatNumber, timeElement, userText } from "./dom.js";

export class ReportList {
  /**
   * @param {{list: HTMLElement, count: HTMLElement}} parts
   * @param {import("./api.js").ModApi} api
   * @param {{onDone: (what: string) => void, onError: (error: Error, what: string) => void}} handlers
   */
  constructor(parts, api, { onDone, onError }) {
    Object.assign(this, { parts, api, onDone, onError });
    this.shown = new Map(); // message id -> report
    parts.list.addEventListener("click", (click) => {
      const target = click.target instanceof Element ? click.target.closest("button[data-action]") : null;
      const node = target ? target.closest("li[data-id]") : null;
      const report = node ? this.shown.get(Number(node.dataset.id)) : undefined;
      if (report) this.act(report, target.dataset.action, target);
    });
  }

  /** Show the reported messages (most reporters first, as the server orders them). */
  render(reports) {
    this.shown = new Map(reports.map((report) => [report.event.id, report]));
    this.parts.list.replaceChildren(...reports.map((report) => this._render(report)));
    this.parts.count.textContent = String(reports.length);
    this.parts.count.dataset.count = String(reports.length);
    this.parts.list.hidden = reports.length === 0;
  }

  async act(report, action, control) {
    control.disabled = true;
    const author = report.event.user?.name ?? gettext("someone");
    try {
      if (action === "delete") {
        await this.api.post("delete", { id: report.event.id });
        this.onDone(interpolate(gettext("Deleted the reported message by %(name)s."), { name: author }));
      } else {
        await this.api.dismissReports(report.event.id);
        this.onDone(interpolate(gettext("Dismissed the reports of the message by %(name)s."), { name: author }));
      }
    } catch (error) {
      this.onError(
        error,
        action === "delete" ? gettext("Could not delete the message") : gettext("Could not dismiss the reports"),
      );
    } finally {
      control.disabled = false;
    }
  }

  _render(report) {
    const node = element("li", "review-item report-item");
    node.dataset.id = String(report.event.id);
    node.dataset.testid = "report-item";
    const head = element("div", "review-head");
    head.append(userText("span", "review-author", report.event.user?.name ?? gettext("someone")));
    const count = element(
      "span",
      "report-count",
      interpolate(ngettext("%(count)s reporter", "%(count)s reporters", report.reporters), {
        count: formatNumber(report.reporters),
      }),
    );
    count.dataset.testid = "report-count";
    count.dataset.count = String(report.reporters);
    head.append(count);
    const time = timeElement(report.last);
    if (time) head.append(time);
    const text = userText("p", "review-text", report.event.deleted ? gettext("(deleted)") : report.event.text ?? "");
    text.dataset.testid = "report-text";
    const reasons = element("ul", "report-reasons");
    for (const reason of report.reasons ?? []) reasons.append(userText("li", "report-reason", reason));
    const actions = element("div", "review-actions");
    actions.append(
      button(gettext("Delete message"), "danger-button", { action: "delete", testid: "report-delete" }),
      button(gettext("Dismiss"), "", { action: "dismiss", testid: "report-dismiss" }),
    );
    node.append(head, text, reasons, actions);
    return node;
  }
}
