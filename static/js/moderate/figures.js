// The live figures of the moderator's page: viewers now, and messages per minute over the last
// hour (a chart, the last minute and the hour's total).

import { gettext } from "../ui/i18n.js";
import { drawRateChart } from "./chart.js";
import { formatNumber } from "./dom.js";

/** A figure as the page shows it: the count in the page's language, or a dash when unknown. */
export function figureText(value, language) {
  return typeof value === "number" && Number.isFinite(value) ? formatNumber(value, language) : "–";
}

export class Figures {
  /**
   * @param {import("./api.js").ModApi} api
   * @param {{viewers: HTMLElement, lastMinute: HTMLElement, lastHour: HTMLElement, chart: HTMLElement}} parts
   * @param {(error: Error, what: string) => void} onError told once per run of failures
   */
  constructor(api, parts, onError) {
    this.api = api;
    this.parts = parts;
    this.onError = onError;
    this.loading = false;
    this.failed = false;
  }

  async refresh() {
    if (this.loading) return;
    this.loading = true;
    try {
      const stats = await this.api.get("stats");
      this.parts.viewers.textContent = figureText(stats.viewers);
      const { total, latest } = drawRateChart(this.parts.chart, stats.per_minute);
      this.parts.lastMinute.textContent = figureText(latest);
      this.parts.lastHour.textContent = figureText(total);
      this.failed = false;
    } catch (error) {
      if (!this.failed) this.onError(error, gettext("Could not load the figures"));
      this.failed = true;
    } finally {
      this.loading = false;
    }
  }

  /** The viewer count from the room's presence: the same the stats count, but at once. */
  showViewers(presence) {
    if (typeof presence.count === "number") this.parts.viewers.textContent = figureText(presence.count);
  }
}
