// Messages per minute over the last hour as a small bar chart, built with SVG DOM calls.

import { gettext, interpolate, ngettext, pageLanguage } from "../ui/i18n.js";
import { formatClock, formatNumber, toDate } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 600;
const HEIGHT = 120;
const TOP_MARGIN = 18; // room for the scale label above the tallest bar
const BAR_GAP = 1;

/** The chart's description for screen readers: `total` messages in `minutes`, `highest` at most. */
export function chartLabel(total, minutes, highest, language = pageLanguage()) {
  const values = {
    total: formatNumber(total, language),
    minutes: formatNumber(minutes, language),
    highest: formatNumber(highest, language),
  };
  return interpolate(
    ngettext(
      "%(total)s message in the last %(minutes)s minutes; at most %(highest)s in a minute",
      "%(total)s messages in the last %(minutes)s minutes; at most %(highest)s in a minute",
      total,
    ),
    values,
  );
}

/** A bar's tooltip: its minute, in `language`, and its count. */
export function barTitle(when, count, language = pageLanguage()) {
  const minute = when ? formatClock(when, language) : "?";
  return interpolate(ngettext("%(minute)s: %(count)s message", "%(minute)s: %(count)s messages", count), {
    minute,
    count: formatNumber(count, language),
  });
}

/** The scale beside the chart: what a full bar stands for. */
export function scaleLabel(highest, language = pageLanguage()) {
  return interpolate(gettext("%(count)s / min"), { count: formatNumber(highest, language) });
}

function svg(tag, attributes = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  return node;
}

/** Draw `perMinute` ([{minute, messages}], oldest first) into `box`, replacing what was there. */
export function drawRateChart(box, perMinute, language = pageLanguage()) {
  const points = Array.isArray(perMinute) ? perMinute : [];
  const counts = points.map((point) => Math.max(0, Number(point.messages) || 0));
  const highest = counts.length ? Math.max(...counts) : 0;
  const peak = Math.max(1, highest); // the bar height a full bar stands for
  const total = counts.reduce((sum, count) => sum + count, 0);
  const chart = svg("svg", {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    preserveAspectRatio: "none",
    class: "rate-chart-svg",
    role: "img",
  });
  chart.setAttribute("aria-label", chartLabel(total, points.length, highest, language));
  chart.dataset.total = String(total);
  chart.dataset.peak = String(highest);
  chart.append(svg("line", { x1: 0, y1: HEIGHT - 0.5, x2: WIDTH, y2: HEIGHT - 0.5, class: "rate-axis" }));
  const slot = WIDTH / Math.max(points.length, 1);
  points.forEach((point, index) => {
    const count = counts[index];
    const height = ((HEIGHT - TOP_MARGIN) * count) / peak;
    const bar = svg("rect", {
      x: index * slot + BAR_GAP / 2,
      y: HEIGHT - height,
      width: Math.max(slot - BAR_GAP, 0.5),
      height,
      class: "rate-bar",
    });
    const title = svg("title");
    title.textContent = barTitle(toDate(point.minute), count, language);
    bar.append(title);
    chart.append(bar);
  });
  // The scale is HTML beside the drawing: text inside a stretched SVG would be stretched too.
  const scale = document.createElement("span");
  scale.className = "rate-scale";
  scale.textContent = scaleLabel(highest, language);
  box.replaceChildren(scale, chart);
  return { total, latest: counts.length ? counts[counts.length - 1] : 0 };
}
