// Small DOM and formatting helpers of the moderator's page. User text only goes in as text.

/** A new element; `text`, when given, is set as textContent (never parsed as markup). */
export function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

/** An element for text a user wrote (names, messages, reasons): direction from its content,
 * isolated from what surrounds it, so a right-to-left override cannot reorder the line. */
export function userText(tag, className, text) {
  const node = element(tag, `user-text${className ? ` ${className}` : ""}`, text ?? "");
  node.dir = "auto";
  return node;
}

/** A button that does not submit a form. */
export function button(label, className, { action, testid } = {}) {
  const node = element("button", className, label);
  node.type = "button";
  if (action) node.dataset.action = action;
  if (testid) node.dataset.testid = testid;
  return node;
}

/** A Date from an ISO string, or a Unix time in seconds or milliseconds; null if unusable. */
export function toDate(value) {
  if (value === null || value === undefined || value === "") return null;
  let moment;
  if (typeof value === "number") moment = new Date(value < 1e11 ? value * 1000 : value);
  else moment = new Date(value);
  return Number.isNaN(moment.getTime()) ? null : moment;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const secondsFormat = new Intl.DateTimeFormat(undefined, {
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

/** A <time> element for `value` (see toDate), or null. */
export function timeElement(value, { seconds = false, className = "mod-time" } = {}) {
  const moment = toDate(value);
  if (moment === null) return null;
  const sameDay = moment.toDateString() === new Date().toDateString();
  const label = sameDay ? (seconds ? secondsFormat : timeFormat).format(moment) : fullFormat.format(moment);
  const node = element("time", className, label);
  node.dateTime = moment.toISOString();
  node.title = fullFormat.format(moment);
  return node;
}

/** "45 s", "5 min", "2 h 30 min", "3 d 4 h": a rough, readable length of time. */
export function formatDuration(seconds) {
  const total = Math.max(0, Math.round(seconds));
  if (total < 60) return `${total} s`;
  const minutes = Math.round(total / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days} d ${hours % 24} h` : `${days} d`;
}

/** Disable `node` while `work` runs; returns work's result. */
export async function busy(node, work) {
  node.disabled = true;
  node.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    node.disabled = false;
    node.removeAttribute("aria-busy");
  }
}
