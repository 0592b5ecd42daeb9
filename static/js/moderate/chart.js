// Messages per minute over the last hour as a small bar chart, built with SVG DOM calls.

import { toDate } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 600;
const HEIGHT = 120;
const TOP_MARGIN = 18; // room for the scale label above the tallest bar
const BAR_GAP = 1;

const minuteFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

function svg(tag, attributes = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  return node;
}

/** Draw `perMinute` ([{minute, messages}], oldest first) into `box`, replacing what was there. */
export function drawRateChart(box, perMinute) {
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
  chart.setAttribute(
    "aria-label",
    `${total} messages in the last ${points.length} minutes; at most ${highest} in a minute`,
  );
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
    const when = toDate(point.minute);
    const title = svg("title");
    title.textContent = `${when ? minuteFormat.format(when) : "?"}: ${count} message${count === 1 ? "" : "s"}`;
    bar.append(title);
    chart.append(bar);
  });
  // The scale is HTML beside the drawing: text inside a stretched SVG would be stretched too.
  const scale = document.createElement("span");
  scale.className = "rate-scale";
  scale.textContent = `${highest} / min`;
  box.replaceChildren(scale, chart);
  return { total, latest: counts.length ? counts[counts.length - 1] : 0 };
}
