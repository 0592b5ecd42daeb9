// Who is who in the room: the owner, moderators, members, and the active timeouts and bans.
// Rendered from the state endpoint's answer ({owner, moderators, members, sanctions}).

import { gettext, interpolate, interpolateParts } from "../ui/i18n.js";
import { button, element, formatDuration, timeElement, toDate, userText } from "./dom.js";

function nameItem(name, { removable, action, label, ariaLabel }) {
  const item = element("li", "name-item");
  item.dataset.name = name;
  item.append(userText("span", "name", name));
  if (removable) {
    const remove = button(label, "quiet-button", { action, testid: action });
    remove.setAttribute("aria-label", interpolate(ariaLabel, { name }));
    item.append(remove);
  }
  return item;
}

/** Render the names of `state` into parts {owner, moderators, members}. */
export function renderPeople(parts, state, { canAppoint }) {
  parts.owner.textContent = state.owner ?? gettext("nobody");
  const moderators = (state.moderators ?? []).map((name) =>
    nameItem(name, {
      removable: canAppoint,
      action: "remove-moderator",
      label: gettext("Remove"),
      ariaLabel: gettext("Remove the moderator %(name)s"),
    }),
  );
  if (moderators.length === 0) moderators.push(element("li", "muted", gettext("None appointed.")));
  parts.moderators.replaceChildren(...moderators);
  const members = (state.members ?? []).map((name) =>
    nameItem(name, {
      removable: true,
      action: "remove-member",
      label: gettext("Remove"),
      ariaLabel: gettext("Remove the member %(name)s"),
    }),
  );
  if (members.length === 0) members.push(element("li", "muted", gettext("No members.")));
  parts.members.replaceChildren(...members);
}

/** The sanctions still in force at `now` (a timeout whose end has passed is over). */
export function activeSanctions(sanctions, now = Date.now()) {
  return (sanctions ?? []).filter((sanction) => {
    const until = toDate(sanction.until);
    return until === null || until.getTime() > now;
  });
}

/** What a sanction is, as parts of a line: "banned", or "timed out for 4 min more, until <time>". */
export function sanctionParts(kind, until, now = Date.now()) {
  if (until === null) return [kind === "ban" ? gettext("banned") : gettext("timed out")];
  const template =
    kind === "ban"
      ? gettext("banned for %(length)s more, until %(time)s")
      : gettext("timed out for %(length)s more, until %(time)s");
  return interpolateParts(template, {
    length: formatDuration((until.getTime() - now) / 1000),
    time: timeElement(until, { seconds: true }),
  });
}

/** Render the active timeouts and bans, each with Lift; returns how many are shown. */
export function renderSanctions(list, empty, sanctions, now = Date.now()) {
  const active = activeSanctions(sanctions, now);
  list.replaceChildren(
    ...active.map((sanction) => {
      const item = element("li", "sanction");
      item.dataset.name = sanction.user;
      item.dataset.kind = sanction.kind;
      item.dataset.testid = "sanction";
      item.append(userText("span", "name", sanction.user));
      const until = toDate(sanction.until);
      const what = element("span", "sanction-kind");
      what.append(...sanctionParts(sanction.kind, until, now));
      item.append(what);
      if (sanction.reason) item.append(userText("q", "reason", sanction.reason));
      const lift = button(gettext("Lift"), "quiet-button", { action: "lift", testid: "lift" });
      lift.setAttribute(
        "aria-label",
        interpolate(sanction.kind === "ban" ? gettext("Lift the ban of %(name)s") : gettext("Lift the timeout of %(name)s"), {
          name: sanction.user,
        }),
      );
      item.append(lift);
      return item;
    }),
  );
  empty.hidden = active.length > 0;
  return active.length;
}
