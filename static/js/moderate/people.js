// Who is who in the room: the owner, moderators, members, and the active timeouts and bans.
// Rendered from the state endpoint's answer ({owner, moderators, members, sanctions}).

import { button, element, formatDuration, timeElement, toDate, userText } from "./dom.js";

function nameItem(name, { removable, action, label }) {
  const item = element("li", "name-item");
  item.dataset.name = name;
  item.append(userText("span", "name", name));
  if (removable) {
    const remove = button(label, "quiet-button", { action, testid: action });
    remove.setAttribute("aria-label", `${label} ${name}`);
    item.append(remove);
  }
  return item;
}

/** Render the names of `state` into parts {owner, moderators, members}. */
export function renderPeople(parts, state, { canAppoint }) {
  parts.owner.textContent = state.owner ?? "nobody";
  const moderators = (state.moderators ?? []).map((name) =>
    nameItem(name, { removable: canAppoint, action: "remove-moderator", label: "Remove" }),
  );
  if (moderators.length === 0) moderators.push(element("li", "muted", "None appointed."));
  parts.moderators.replaceChildren(...moderators);
  const members = (state.members ?? []).map((name) =>
    nameItem(name, { removable: true, action: "remove-member", label: "Remove" }),
  );
  if (members.length === 0) members.push(element("li", "muted", "No members."));
  parts.members.replaceChildren(...members);
}

/** The sanctions still in force at `now` (a timeout whose end has passed is over). */
export function activeSanctions(sanctions, now = Date.now()) {
  return (sanctions ?? []).filter((sanction) => {
    const until = toDate(sanction.until);
    return until === null || until.getTime() > now;
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
      if (sanction.kind === "ban" && until === null) {
        what.textContent = "banned";
      } else if (until !== null) {
        what.textContent = `${sanction.kind === "ban" ? "banned" : "timed out"} for ${formatDuration(
          (until.getTime() - now) / 1000,
        )} more, until `;
        what.append(timeElement(until, { seconds: true }));
      } else {
        what.textContent = "timed out";
      }
      item.append(what);
      if (sanction.reason) item.append(userText("q", "reason", sanction.reason));
      const lift = button("Lift", "quiet-button", { action: "lift", testid: "lift" });
      lift.setAttribute("aria-label", `Lift the ${sanction.kind} of ${sanction.user}`);
      item.append(lift);
      return item;
    }),
  );
  empty.hidden = active.length > 0;
  return active.length;
}
