// Small DOM and formatting helpers of the moderator's page. User text only goes in as text;
// times, numbers and lengths of time are in the page's language (ui/i18n.js).

import { formatNumber, gettext, interpolate, intlLocale, pageLanguage } from "../ui/i18n.js";

export { formatNumber };

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

// Intl's formats for one language (the page's, or a test's), made once each.
const FORMATS = new Map();

function formatsFor(language) {
  let formats = FORMATS.get(language);
  if (formats === undefined) {
    const locale = intlLocale(language);
    formats = {
      time: new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit" }),
      seconds: new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit", second: "2-digit" }),
      full: new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "medium" }),
    };
    FORMATS.set(language, formats);
  }
  return formats;
}

/** The time of `moment` as a line of the page shows it, in `language`: hours and minutes (and
 *  seconds) on the day of `now`, the date and time on another day. */
export function formatMoment(moment, { seconds = false, language = pageLanguage(), now = new Date() } = {}) {
  const formats = formatsFor(language);
  const sameDay = moment.toDateString() === now.toDateString();
  return sameDay ? (seconds ? formats.seconds : formats.time).format(moment) : formats.full.format(moment);
}

/** The hour and minute of `moment` in `language` (a chart's bar). */
export function formatClock(moment, language = pageLanguage()) {
  return formatsFor(language).time.format(moment);
}

/** The date and time of `moment` in full, in `language` (a <time>'s title). */
export function formatFullMoment(moment, language = pageLanguage()) {
  return formatsFor(language).full.format(moment);
}

/** A <time> element for `value` (see toDate), or null. */
export function timeElement(value, { seconds = false, className = "mod-time", language = pageLanguage() } = {}) {
  const moment = toDate(value);
  if (moment === null) return null;
  const node = element("time", className, formatMoment(moment, { seconds, language }));
  node.dateTime = moment.toISOString();
  node.title = formatFullMoment(moment, language);
  return node;
}

/** "45 s", "5 min", "2 h 30 min", "3 d 4 h": a rough, readable length of time, in the page's
 *  language (its units and its digits). */
export function formatDuration(seconds, language = pageLanguage()) {
  const number = (value) => formatNumber(value, language);
  const total = Math.max(0, Math.round(seconds));
  if (total < 60) return interpolate(gettext("%(count)s s"), { count: number(total) });
  const minutes = Math.round(total / 60);
  if (minutes < 60) return interpolate(gettext("%(count)s min"), { count: number(minutes) });
  const hours = Math.floor(minutes / 60);
  if (hours < 24) {
    return minutes % 60
      ? interpolate(gettext("%(hours)s h %(minutes)s min"), { hours: number(hours), minutes: number(minutes % 60) })
      : interpolate(gettext("%(count)s h"), { count: number(hours) });
  }
  const days = Math.floor(hours / 24);
  return hours % 24
    ? interpolate(gettext("%(days)s d %(hours)s h"), { days: number(days), hours: number(hours % 24) })
    : interpolate(gettext("%(count)s d"), { count: number(days) });
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
