// Members and moderators on the moderator's page: add by name, remove with each name's button.
// Each change answers with the room's new state.

import { gettext, interpolate } from "../ui/i18n.js";
import { busy } from "./dom.js";

const REMOVALS = {
  "remove-member": {
    endpoint: "members",
    done: (name) => interpolate(gettext("%(name)s is no longer a member."), { name }),
  },
  "remove-moderator": {
    endpoint: "moderators",
    done: (name) => interpolate(gettext("%(name)s is no longer a moderator."), { name }),
  },
};

// What a failed change says, by its endpoint and action.
const FAILURES = {
  "members add": () => gettext("Could not invite %(name)s"),
  "members remove": () => gettext("Could not remove the member %(name)s"),
  "moderators add": () => gettext("Could not make %(name)s a moderator"),
  "moderators remove": () => gettext("Could not remove the moderator %(name)s"),
};

/**
 * Wire the member and moderator forms (either may be missing: only owners appoint moderators)
 * and the remove buttons under `root`.
 * @param {{api, notice, state, refresher}} services ModApi, Notice, RoomState, Refresher
 */
export function wirePeopleForms(root, { memberForm, moderatorForm }, { api, notice, state, refresher }) {
  const change = async (endpoint, action, name, control, done) => {
    try {
      state.apply(await busy(control, () => api.post(endpoint, { [action]: name })));
      notice.show(done);
      refresher.changed();
      return true;
    } catch (error) {
      notice.error(error, interpolate(FAILURES[`${endpoint} ${action}`](), { name }));
      return false;
    }
  };

  const wireForm = (form, endpoint, done) => {
    form?.addEventListener("submit", async (submit) => {
      submit.preventDefault();
      const name = form.elements.user.value.trim();
      if (!name) return;
      const control = form.querySelector('button[type="submit"]');
      if (await change(endpoint, "add", name, control, done(name))) form.elements.user.value = "";
    });
  };
  wireForm(memberForm, "members", (name) => interpolate(gettext("%(name)s is a member now."), { name }));
  wireForm(moderatorForm, "moderators", (name) => interpolate(gettext("%(name)s is a moderator now."), { name }));

  root.addEventListener("click", (click) => {
    const control = click.target instanceof Element ? click.target.closest("button[data-action]") : null;
    const item = control ? control.closest("li[data-name]") : null;
    const removal = item ? REMOVALS[control.dataset.action] : undefined;
    if (!removal) return;
    const name = item.dataset.name;
    change(removal.endpoint, "remove", name, control, removal.done(name));
  });
}
