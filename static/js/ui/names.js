// How a message line shows who wrote it: a colour that stays the user's (picked from their id,
// so every page and every reader agrees) and the badge of their role in the room.
//
// The palette's colours are in site.css (.name-c0 ... .name-c7): each is a light-dark() pair
// with at least 4.8:1 contrast on every background a line can have in both themes (the page,
// the list, a hovered line, one's own line, a line that mentions the reader).

import { gettext } from "./i18n.js";

export const NAME_COLOURS = 8;

// What the wire's `user.role` (docs/PROTOCOL.md) shows as a badge, in the page's language;
// other values show none.
export const ROLE_LABELS = {
  owner: gettext("owner"),
  moderator: gettext("moderator"),
  staff: gettext("staff"),
};

/** The palette slot of a user id: a multiplicative hash, so neighbouring ids differ in colour. */
export function nameColour(userId) {
  const id = Number(userId);
  if (!Number.isSafeInteger(id)) return 0;
  return (Math.imul(id >>> 0, 2654435761) >>> 0) % NAME_COLOURS;
}

/** The badges after an author's name: their role in the room, and "bot" for a bot account. */
export function badges(user) {
  const shown = [];
  const label = Object.hasOwn(ROLE_LABELS, user?.role) ? ROLE_LABELS[user.role] : null;
  if (label) {
    const badge = document.createElement("span");
    badge.className = `role-badge role-${user.role}`;
    badge.textContent = label;
    shown.push(badge);
  }
  if (user?.bot === true) {
    const badge = document.createElement("span");
    badge.className = "bot-badge";
    badge.textContent = gettext("bot");
    shown.push(badge);
  }
  return shown;
}
