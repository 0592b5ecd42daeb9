// The moderator's page: the room's live feed with Delete / Time out / Ban on every line, the
// review queue, the room's settings, people and sanctions, the audit log and live figures.
// The page's data (room, endpoints, who we are) comes as JSON in #moderate-config.

import { ModApi } from "../moderate/api.js";
import { AuditLog } from "../moderate/audit.js";
import { drawRateChart } from "../moderate/chart.js";
import { busy, element, formatDuration } from "../moderate/dom.js";
import { ModerationFeed } from "../moderate/feed.js";
import { activeSanctions, renderPeople, renderSanctions } from "../moderate/people.js";
import { ReviewQueue } from "../moderate/review.js";
import { SettingsForm } from "../moderate/settings.js";
import { LiveRoom } from "../ui/live-room.js";

// Held messages are not room events, so the queue is polled.
const REVIEW_REFRESH_MS = 5_000;
// Viewers and the per-minute chart; also re-checks which timeouts have run out.
const STATS_REFRESH_MS = 10_000;
// Sanctions and people change by room events too; this catches what no event announces.
const STATE_REFRESH_MS = 30_000;
// Room events often come in bursts (a clear, several deletes): re-read the log once per burst.
const EVENT_REFRESH_DELAY_MS = 250;
const NOTICE_HIDE_MS = 8_000;
// Room events that change the audit log, and those that change the state endpoint's answer.
const AUDITED_KINDS = new Set(["delete", "clear", "ban", "unban", "settings"]);
const STATE_KINDS = new Set(["ban", "unban", "settings"]);

const config = JSON.parse(document.getElementById("moderate-config").textContent);
const root = document.getElementById("moderate");
const part = (role) => root.querySelector(`[data-role="${role}"]`);
const api = new ModApi(config.urls);
const meId = config.me ? config.me.id : null;

// Notices: the outcome of the moderator's last action, or what went wrong.

const noticeBox = part("notice");
let noticeTimer = null;

function notify(text, kind = "ok") {
  clearTimeout(noticeTimer);
  noticeBox.replaceChildren(element("span", "", text));
  noticeBox.dataset.kind = kind;
  noticeBox.setAttribute("role", kind === "error" ? "alert" : "status");
  noticeBox.hidden = false;
  if (kind !== "error") noticeTimer = setTimeout(() => (noticeBox.hidden = true), NOTICE_HIDE_MS);
}

function describeError(error) {
  switch (error.code) {
    case "rate_limited":
      return error.retry_after ? `too fast; try again in ${Math.ceil(error.retry_after)} s.` : "too fast; wait a moment.";
    case "csrf_failed":
      return "the page's security token is stale; reload the page.";
    default:
      return error.message || error.code || "unknown error";
  }
}

function reportError(error, what) {
  console.warn("moderate:", what, error);
  notify(`${what}: ${describeError(error)}`, "error");
  if (error.code === "login_required") {
    const link = element("a", "", "Log in");
    link.href = `/accounts/login/?next=${encodeURIComponent(window.location.pathname)}`;
    noticeBox.append(" ", link);
  }
}

/** The reason typed beside the feed, as a request field (and cleared once it was used). */
const reasonInput = part("action-reason");
const durationSelect = part("timeout-duration");

function reasonField() {
  const reason = reasonInput.value.trim();
  return reason ? { reason } : {};
}

function reasonUsed(field) {
  if (field.reason !== undefined && reasonInput.value.trim() === field.reason) reasonInput.value = "";
}

// People, sanctions and settings: the state endpoint.

let state = null;
let stateLoading = null;
const peopleParts = { owner: part("owner"), moderators: part("moderators"), members: part("members") };
const sanctionList = part("sanctions");
const sanctionEmpty = part("sanctions-empty");

const settingsForm = new SettingsForm(
  part("settings-form"),
  {
    status: part("settings-status"),
    changed: part("settings-changed"),
    reload: part("settings-reload"),
    ageField: part("age-field"),
  },
  async (settings) => {
    const answer = await api.post("settings", settings);
    moderationChanged({ state: true });
    return answer.settings;
  },
);

function applyState(next) {
  if (!next || typeof next !== "object") return;
  state = next;
  renderPeople(peopleParts, state, { canAppoint: Boolean(config.is_owner) });
  renderSanctions(sanctionList, sanctionEmpty, state.sanctions);
  settingsForm.update(state.settings);
}

function refreshState() {
  if (stateLoading) return stateLoading;
  stateLoading = api
    .get("state")
    .then(applyState)
    .catch((error) => reportError(error, "Could not load the room's state"))
    .finally(() => {
      stateLoading = null;
    });
  return stateLoading;
}

/** Re-show sanctions so remaining times count down; re-read the state when one ran out. */
function tickSanctions() {
  if (!state) return;
  const before = state.sanctions?.length ?? 0;
  const shown = renderSanctions(sanctionList, sanctionEmpty, state.sanctions);
  if (shown < before) {
    state = { ...state, sanctions: activeSanctions(state.sanctions) };
    refreshState();
  }
}

// The audit log and the review queue.

const audit = new AuditLog(
  { list: part("audit-list"), empty: part("audit-empty"), older: part("audit-older") },
  api,
  reportError,
);

const review = new ReviewQueue(
  { list: part("review-list"), empty: part("review-empty"), count: part("review-count") },
  api,
  {
    onDecided: (item, approve) => {
      const author = item.user?.name ?? "someone";
      notify(approve ? `Approved the message by ${author}.` : `Rejected the message by ${author}.`);
      audit.refresh();
    },
    onError: reportError,
  },
);

let refreshTimer = null;
let refreshStateToo = false;

/** Something moderation-related happened: re-read the audit log (and the state) shortly. */
function moderationChanged({ state: stateToo = false } = {}) {
  refreshStateToo ||= stateToo;
  if (refreshTimer !== null) return;
  refreshTimer = setTimeout(() => {
    refreshTimer = null;
    audit.refresh();
    if (refreshStateToo) refreshState();
    refreshStateToo = false;
  }, EVENT_REFRESH_DELAY_MS);
}

// Live figures.

const figures = { viewers: part("viewers"), lastMinute: part("per-minute-now"), lastHour: part("per-hour") };
let statsLoading = false;
let statsFailed = false;

async function refreshStats() {
  if (statsLoading) return;
  statsLoading = true;
  try {
    const stats = await api.get("stats");
    figures.viewers.textContent = String(stats.viewers ?? "–");
    const { total, latest } = drawRateChart(part("rate-chart"), stats.per_minute);
    figures.lastMinute.textContent = String(latest);
    figures.lastHour.textContent = String(total);
    statsFailed = false;
  } catch (error) {
    if (!statsFailed) reportError(error, "Could not load the figures");
    statsFailed = true;
  } finally {
    statsLoading = false;
  }
}

// Actions on a user or a message.

async function deleteMessage(event, control) {
  const field = reasonField();
  try {
    await busy(control, () => api.post("delete", { id: event.id, ...field }));
    feed.remove(event.id);
    reasonUsed(field);
    notify(event.user ? `Deleted the message by ${event.user.name}.` : "Deleted the message.");
    moderationChanged();
  } catch (error) {
    if (error.code === "already_deleted") feed.remove(event.id);
    reportError(error, "Could not delete the message");
  }
}

async function timeOut(user, control) {
  const seconds = Number(durationSelect.value);
  const field = reasonField();
  try {
    await busy(control, () => api.post("timeout", { user, seconds, ...field }));
    reasonUsed(field);
    notify(`${user} is timed out for ${formatDuration(seconds)}.`);
    moderationChanged({ state: true });
    return true;
  } catch (error) {
    reportError(error, `Could not time out ${user}`);
    return false;
  }
}

async function ban(user, control) {
  const field = reasonField();
  try {
    await busy(control, () => api.post("ban", { user, ...field }));
    reasonUsed(field);
    notify(`${user} is banned from the room.`);
    moderationChanged({ state: true });
    return true;
  } catch (error) {
    reportError(error, `Could not ban ${user}`);
    return false;
  }
}

async function lift(user, control) {
  try {
    await busy(control, () => api.post("unban", { user }));
    notify(`${user} may post again.`);
    moderationChanged({ state: true });
  } catch (error) {
    reportError(error, `Could not lift the sanction of ${user}`);
    if (error.code === "not_found") refreshState(); // it ran out or someone lifted it first
  }
}

function onFeedAction(action, event, control) {
  if (action === "delete") deleteMessage(event, control);
  else if (action === "timeout" && event.user) timeOut(event.user.name, control);
  else if (action === "ban" && event.user) ban(event.user.name, control);
}

sanctionList.addEventListener("click", (click) => {
  const control = click.target instanceof Element ? click.target.closest('button[data-action="lift"]') : null;
  const item = control ? control.closest("li[data-name]") : null;
  if (item) lift(item.dataset.name, control);
});

part("sanction-form").addEventListener("submit", async (submit) => {
  submit.preventDefault();
  const form = submit.currentTarget;
  const user = form.elements.user.value.trim();
  if (!user) return;
  const control = submit.submitter ?? form.querySelector("button");
  const done = control.value === "ban" ? await ban(user, control) : await timeOut(user, control);
  if (done) form.elements.user.value = "";
});

// Members and moderators: each change answers with the new state.

async function changePeople(endpoint, change, name, control, done) {
  try {
    const next = await busy(control, () => api.post(endpoint, { [change]: name }));
    applyState(next);
    notify(done);
    moderationChanged();
    return true;
  } catch (error) {
    reportError(error, `Could not ${change} ${name}`);
    return false;
  }
}

function wirePeopleForm(form, endpoint, done) {
  if (!form) return;
  form.addEventListener("submit", async (submit) => {
    submit.preventDefault();
    const name = form.elements.user.value.trim();
    if (!name) return;
    const control = form.querySelector('button[type="submit"]');
    if (await changePeople(endpoint, "add", name, control, done(name))) form.elements.user.value = "";
  });
}

wirePeopleForm(part("member-form"), "members", (name) => `${name} is a member now.`);
wirePeopleForm(part("moderator-form"), "moderators", (name) => `${name} is a moderator now.`);

root.addEventListener("click", (click) => {
  const control = click.target instanceof Element ? click.target.closest("button[data-action]") : null;
  const item = control ? control.closest("li[data-name]") : null;
  if (!item) return;
  const name = item.dataset.name;
  if (control.dataset.action === "remove-member") {
    changePeople("members", "remove", name, control, `${name} is no longer a member.`);
  } else if (control.dataset.action === "remove-moderator") {
    changePeople("moderators", "remove", name, control, `${name} is no longer a moderator.`);
  }
});

// Clearing the room asks once more: it cannot be undone.

const clearButton = part("clear-room");
const clearConfirm = part("clear-confirm");
clearButton.addEventListener("click", () => {
  clearButton.hidden = true;
  clearConfirm.hidden = false;
  part("clear-no").focus();
});
part("clear-no").addEventListener("click", () => {
  clearConfirm.hidden = true;
  clearButton.hidden = false;
});
part("clear-yes").addEventListener("click", async (click) => {
  const field = reasonField();
  try {
    await busy(click.currentTarget, () => api.post("clear", field));
    reasonUsed(field);
    notify("Cleared the room.");
    moderationChanged();
  } catch (error) {
    reportError(error, "Could not clear the room");
  } finally {
    clearConfirm.hidden = true;
    clearButton.hidden = false;
  }
});

// The live feed.

const feed = new ModerationFeed(part("feed"), part("feed-scroll"), {
  meId,
  empty: part("feed-empty"),
  onAction: onFeedAction,
});
const live = new LiveRoom({
  slug: config.slug,
  historyUrl: config.history,
  list: feed,
  state: root.querySelector('[data-testid="connection-state"]'),
  loadOlder: part("load-older"),
  onEvents: (events) => {
    let stateToo = false;
    let audited = false;
    for (const event of events) {
      if (event.kind === "settings" && event.settings) settingsForm.update(event.settings);
      stateToo ||= STATE_KINDS.has(event.kind);
      audited ||= AUDITED_KINDS.has(event.kind);
    }
    if (audited) moderationChanged({ state: stateToo });
  },
  // The same count the stats endpoint reads, but as soon as it changes.
  onPresence: (presence) => {
    if (typeof presence.count === "number") figures.viewers.textContent = String(presence.count);
  },
  onReset: () => moderationChanged({ state: true }),
  onError: reportError,
});

// Importing a Bilibili XML file.

const importForm = part("import-form");
const importReport = part("import-report");
importForm.addEventListener("submit", async (submit) => {
  submit.preventDefault();
  const file = importForm.elements.file.files[0];
  if (!file) return;
  const control = importForm.querySelector('button[type="submit"]');
  try {
    const report = await busy(control, () => api.upload("import", file));
    const skipped = Object.entries(report.skipped || {})
      .map(([reason, count]) => `${reason} ${count}`)
      .join(", ");
    importReport.textContent = `Imported ${report.imported} comments.${skipped ? ` Skipped: ${skipped}.` : ""}`;
    importReport.hidden = false;
    importForm.reset();
    audit.refresh();
  } catch (error) {
    reportError(error, "Import");
  }
});

// Start, and keep the polled parts fresh.

function refreshAll() {
  refreshState();
  review.refresh();
  refreshStats();
  audit.refresh();
}

part("review-refresh").addEventListener("click", () => review.refresh());
part("audit-refresh").addEventListener("click", () => audit.refresh());
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") refreshAll();
});
setInterval(() => review.refresh(), REVIEW_REFRESH_MS);
setInterval(() => {
  refreshStats();
  tickSanctions();
}, STATS_REFRESH_MS);
setInterval(refreshState, STATE_REFRESH_MS);

refreshAll();
live.start();
