// Members and moderators on the moderator's page: add by name, remove with each name's button.
// Each change answers with the room's new state.

import { busy } from "./dom.js";

const REMOVALS = {
  "remove-member": { endpoint: "members", done: (name) => `${name} is no longer a member.` },
  "remove-moderator": { endpoint: "moderators", done: (name) => `${name} is no longer a moderator.` },
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
      notice.error(error, `Could not ${action} ${name}`);
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
  wireForm(memberForm, "members", (name) => `${name} is a member now.`);
  wireForm(moderatorForm, "moderators", (name) => `${name} is a moderator now.`);

  root.addEventListener("click", (click) => {
    const control = click.target instanceof Element ? click.target.closest("button[data-action]") : null;
    const item = control ? control.closest("li[data-name]") : null;
    const removal = item ? REMOVALS[control.dataset.action] : undefined;
    if (!removal) return;
    const name = item.dataset.name;
    change(removal.endpoint, "remove", name, control, removal.done(name));
  });
}
