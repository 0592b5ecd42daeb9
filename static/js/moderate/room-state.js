// People, sanctions and settings of the room as the state endpoint tells them, shown on the
// moderator's page: one request at a time, and the sanctions' remaining times counting down.

import { gettext, interpolateParts } from "../ui/i18n.js";
import { activeSanctions, renderPeople, renderSanctions } from "./people.js";

/** The hidden users (YouTube's hide), each with an Unhide button. */
export function renderHidden(list, hidden) {
  list.replaceChildren(
    ...hidden.map(({ user, reason }) => {
      const item = document.createElement("li");
      item.dataset.name = user;
      const name = document.createElement("bdi");
      name.textContent = user;
      if (reason) {
        const why = document.createElement("bdi");
        why.textContent = reason;
        item.append(...interpolateParts(gettext("%(name)s — %(reason)s"), { name, reason: why }));
      } else {
        item.append(name);
      }
      const unhide = document.createElement("button");
      unhide.type = "button";
      unhide.className = "quiet-button";
      unhide.dataset.action = "unhide";
      unhide.textContent = gettext("Unhide");
      item.append(" ", unhide);
      return item;
    }),
  );
  list.hidden = hidden.length === 0;
}

export class RoomState {
  /**
   * @param {import("./api.js").ModApi} api
   * @param {{people: {owner, moderators, members}, sanctions: HTMLElement, sanctionsEmpty: HTMLElement}} parts
   * @param {{settingsForm: import("./settings.js").SettingsForm, canAppoint: boolean,
   *          onError: (error: Error, what: string) => void}} options
   */
  constructor(api, parts, { settingsForm, canAppoint, onError }) {
    this.api = api;
    this.parts = parts;
    this.settingsForm = settingsForm;
    this.canAppoint = canAppoint;
    this.onError = onError;
    this.state = null;
    this.loading = null;
  }

  /** Show a state answer (the state endpoint's, or a people change's). */
  apply(next) {
    if (!next || typeof next !== "object") return;
    this.state = next;
    renderPeople(this.parts.people, next, { canAppoint: this.canAppoint });
    renderSanctions(this.parts.sanctions, this.parts.sanctionsEmpty, next.sanctions);
    if (this.parts.hidden) renderHidden(this.parts.hidden, next.hidden ?? []);
    this.settingsForm.update(next.settings);
  }

  /** Re-read the state (a call during a request waits for it). */
  refresh() {
    if (this.loading) return this.loading;
    this.loading = this.api
      .get("state")
      .then((next) => this.apply(next))
      .catch((error) => this.onError(error, gettext("Could not load the room's state")))
      .finally(() => {
        this.loading = null;
      });
    return this.loading;
  }

  /** Re-show the sanctions so remaining times count down; re-read the state when one ran out. */
  tick() {
    if (!this.state) return;
    const before = this.state.sanctions?.length ?? 0;
    const shown = renderSanctions(this.parts.sanctions, this.parts.sanctionsEmpty, this.state.sanctions);
    if (shown < before) {
      this.state = { ...this.state, sanctions: activeSanctions(this.state.sanctions) };
      this.refresh();
    }
  }
}
