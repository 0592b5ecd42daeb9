// The "who is online" panel: an exact count, the (bounded) list of names, the guests. Each name
// is a <bdi>: its bidi controls cannot reorder the list. A bot account (`user.bot`) gets the
// same badge as beside its messages.

import { gettext, interpolate, ngettext } from "./i18n.js";

export function renderPresence({ count, users, guests }, presence) {
  count.textContent = String(presence.count ?? 0);
  const names = (presence.users ?? []).map((user) => {
    const item = document.createElement("li");
    const name = document.createElement("bdi");
    name.textContent = user.name;
    item.append(name);
    if (user.bot === true) {
      const badge = document.createElement("span");
      badge.className = "bot-badge";
      badge.textContent = gettext("bot");
      item.append(" ", badge);
    }
    item.dataset.userId = String(user.id);
    return item;
  });
  const listed = names.length;
  const unlisted = (presence.count ?? 0) - (presence.guests ?? 0) - listed;
  if (unlisted > 0) {
    const more = document.createElement("li");
    more.className = "muted";
    more.textContent = interpolate(gettext("and %(count)s more"), { count: unlisted });
    names.push(more);
  }
  users.replaceChildren(...names);
  const guestCount = presence.guests ?? 0;
  guests.hidden = guestCount === 0;
  guests.textContent = interpolate(ngettext("%(count)s guest", "%(count)s guests", guestCount), { count: guestCount });
}
