// The moderator's page: the room's live feed with Delete / Time out / Ban on every line, the
// review queue, the room's settings, people and sanctions, the audit log and live figures.
// The page's data (room, endpoints, who we are) comes as JSON in #moderate-config.

import { ModActions, ReasonField } from "../moderate/actions.js";
import { ModApi } from "../moderate/api.js";
import { AuditLog } from "../moderate/audit.js";
import { CallSettingsPanel } from "../moderate/call-settings.js";
import { DryRun } from "../moderate/dry-run.js";
import { ModerationFeed } from "../moderate/feed.js";
import { Figures } from "../moderate/figures.js";
import { Notice } from "../moderate/notice.js";
import { wirePeopleForms } from "../moderate/people-forms.js";
import { Refresher } from "../moderate/refresher.js";
import { ReportList } from "../moderate/reports.js";
import { ReviewQueue } from "../moderate/review.js";
import { RoomState } from "../moderate/room-state.js";
import { wireClearRoom, wireImport } from "../moderate/room-tools.js";
import { SettingsForm } from "../moderate/settings.js";
import { gettext, interpolate } from "../ui/i18n.js";
import { LiveRoom } from "../ui/live-room.js";
import { PinnedMessage } from "../ui/pinned.js";

const config = JSON.parse(document.getElementById("moderate-config").textContent);
const root = document.getElementById("moderate");
const part = (role) => root.querySelector(`[data-role="${role}"]`);
const api = new ModApi(config.urls);
const notice = new Notice(part("notice"));
const reportError = (error, what) => notice.error(error, what);

const settingsForm = new SettingsForm(
  part("settings-form"),
  {
    status: part("settings-status"),
    changed: part("settings-changed"),
    reload: part("settings-reload"),
    ageField: part("age-field"),
    blockedProblems: part("blocked-problems"),
  },
  async (settings) => {
    const answer = await api.post("settings", settings);
    refresher.changed({ state: true });
    return answer.settings;
  },
);
const state = new RoomState(
  api,
  {
    people: { owner: part("owner"), moderators: part("moderators"), members: part("members") },
    sanctions: part("sanctions"),
    sanctionsEmpty: part("sanctions-empty"),
    hidden: part("hidden-users"),
  },
  { settingsForm, canAppoint: Boolean(config.is_owner), onError: reportError },
);
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
      const name = item.user?.name ?? gettext("someone");
      notice.show(
        interpolate(approve ? gettext("Approved the message by %(name)s.") : gettext("Rejected the message by %(name)s."), {
          name,
        }),
      );
      audit.refresh();
    },
    onError: reportError,
    onReports: (reports) => reportList.render(reports),
  },
);
const reportList = new ReportList({ list: part("report-list"), count: part("report-count") }, api, {
  onDone: (what) => {
    notice.show(what);
    review.refresh();
    audit.refresh();
  },
  onError: reportError,
});
const figures = new Figures(
  api,
  {
    viewers: part("viewers"),
    lastMinute: part("per-minute-now"),
    lastHour: part("per-hour"),
    chart: part("rate-chart"),
  },
  reportError,
);
const refresher = new Refresher({ audit, review, state, figures });

// The live feed and the actions on its lines.
const feed = new ModerationFeed(part("feed"), part("feed-scroll"), {
  meId: config.me ? config.me.id : null,
  empty: part("feed-empty"),
  onAction: (action, event, control) => actions.onFeedAction(action, event, control),
});
const reason = new ReasonField(part("action-reason"));
const actions = new ModActions(
  {
    reason,
    duration: part("timeout-duration"),
    purge: part("action-purge"),
    pinLength: part("pin-length"),
    sanctions: part("sanctions"),
    sanctionForm: part("sanction-form"),
  },
  { api, notice, feed, refresher, state },
);
wirePeopleForms(root, { memberForm: part("member-form"), moderatorForm: part("moderator-form") }, {
  api,
  notice,
  state,
  refresher,
});
wireClearRoom(
  { button: part("clear-room"), confirm: part("clear-confirm"), yes: part("clear-yes"), no: part("clear-no") },
  { api, notice, refresher, reason },
);
const pinned = new PinnedMessage(part("pinned"));
part("unpin").addEventListener("click", (click) => actions.unpin(click.currentTarget));
part("hidden-users").addEventListener("click", (click) => {
  const control = click.target instanceof Element ? click.target.closest('button[data-action="unhide"]') : null;
  const item = control ? control.closest("li[data-name]") : null;
  if (item) actions.unhideUser(item.dataset.name, control);
});
new DryRun(
  {
    button: part("dry-run"),
    words: root.querySelector('[data-testid="set-blocked-words"]'),
    summary: part("dry-run-summary"),
    list: part("dry-run-list"),
  },
  api,
);
wireImport(part("import-form"), part("import-report"), { api, notice, audit });
// Who may join the call: the owner's (the page leaves the form out for other moderators).
if (part("call-access-form")) {
  new CallSettingsPanel(
    {
      accessForm: part("call-access-form"),
      access: root.querySelector('[data-testid="call-access"]'),
      save: root.querySelector('[data-testid="call-access-save"]'),
      status: part("call-settings-status"),
      list: part("call-invited"),
      empty: part("call-invited-empty"),
      inviteForm: part("call-invite-form"),
      inviteName: root.querySelector('[data-testid="call-invite-name"]'),
      inviteButton: root.querySelector('[data-testid="call-invite-add"]'),
    },
    { api, onChanged: () => audit.refresh() },
  ).load();
}

part("review-refresh").addEventListener("click", () => review.refresh());
part("audit-refresh").addEventListener("click", () => audit.refresh());
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") refresher.all();
});

refresher.all();
refresher.poll();
new LiveRoom({
  slug: config.slug,
  historyUrl: config.history,
  list: feed,
  state: root.querySelector('[data-testid="connection-state"]'),
  loadOlder: part("load-older"),
  onEvents: (events) => {
    for (const event of events) if (event.kind === "settings" && event.settings) settingsForm.update(event.settings);
    pinned.apply(events);
    part("unpin").hidden = pinned.pin === null;
    refresher.eventsArrived(events);
  },
  onPresence: (presence) => figures.showViewers(presence),
  onReset: () => refresher.changed({ state: true }),
  onLatest: (page) => {
    pinned.show(page.pinned ?? null);
    part("unpin").hidden = pinned.pin === null;
  },
  onError: reportError,
}).start();
