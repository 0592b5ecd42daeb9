// Who may join the room's call, on the moderator's page (the owner's part): the access mode and
// the accounts invited to the call, through `GET|POST /rooms/<slug>/call/settings`
// (docs/PROTOCOL.md "Calls"). Every change answers with the settings as they are now.

import { requestErrorText } from "../ui/error-texts.js";
import { gettext, interpolate } from "../ui/i18n.js";
import { busy, button, userText } from "./dom.js";

// What "Saved" says of each access mode.
export const CALL_ACCESS = Object.freeze({
  signed_in: () => gettext("Saved: the call is open to everyone signed in."),
  members: () => gettext("Saved: the call is open to the room's members (and moderators)."),
  invited: () => gettext("Saved: the call is open to moderators and the invited accounts."),
});

// The server's limit on a user name (Django's username field).
export const NAME_MAX_CHARS = 150;

/** Why `name` cannot be invited (a sentence), or null; the server checks it again. */
export function inviteProblem(name) {
  const trimmed = String(name ?? "").trim();
  if (trimmed === "") return gettext("Write the user name of the account to invite.");
  if (trimmed.length > NAME_MAX_CHARS) {
    return interpolate(gettext("A user name has at most %(count)s characters."), { count: NAME_MAX_CHARS });
  }
  return null;
}

/** What a refused call-settings request says, by its stable code. */
export function callSettingsErrorText(error, name) {
  switch (error?.code) {
    case "unknown_user":
      return interpolate(gettext("There is no account named “%(name)s”."), { name });
    case "too_many":
      return error.message || gettext("The call has as many invitations as it may hold; remove one first.");
    default:
      return requestErrorText(error ?? {});
  }
}

export class CallSettingsPanel {
  /**
   * @param {{access: HTMLSelectElement, accessForm: HTMLFormElement, save: HTMLButtonElement,
   *   status: HTMLElement, list: HTMLElement, empty: HTMLElement, inviteForm: HTMLFormElement,
   *   inviteName: HTMLInputElement, inviteButton: HTMLButtonElement}} parts
   * @param {{api: {get, post}, onChanged?: () => void}} services ModApi; onChanged after a saved change
   */
  constructor(parts, { api, onChanged = () => {} }) {
    this.parts = parts;
    this.api = api;
    this.onChanged = onChanged;
    this.settings = null;
    parts.accessForm.addEventListener("submit", (submit) => {
      submit.preventDefault();
      this.saveAccess();
    });
    parts.inviteForm.addEventListener("submit", (submit) => {
      submit.preventDefault();
      this.invite(parts.inviteName.value);
    });
    parts.access.addEventListener("change", () => this._status("", ""));
  }

  /** Read the settings from the server and show them. */
  async load() {
    try {
      this.show(await this.api.get("call_settings"));
    } catch (error) {
      this._status(
        interpolate(gettext("Could not read the call settings: %(reason)s"), { reason: callSettingsErrorText(error) }),
        "error",
      );
    }
  }

  /** Show `settings` ({access, invited: [names]}). */
  show(settings) {
    if (!settings || typeof settings !== "object") return;
    this.settings = settings;
    if (settings.access in CALL_ACCESS) this.parts.access.value = settings.access;
    const names = Array.isArray(settings.invited) ? settings.invited : [];
    const items = names.map((name) => {
      const item = document.createElement("li");
      item.dataset.name = String(name);
      item.dataset.testid = "call-invitee";
      const remove = button(gettext("Remove"), "quiet-button", { action: "uninvite", testid: "call-uninvite" });
      remove.setAttribute("aria-label", interpolate(gettext("Remove %(name)s's invitation to the call"), { name }));
      remove.addEventListener("click", () => this.uninvite(String(name), remove));
      item.append(userText("span", "name", name), " ", remove);
      return item;
    });
    this.parts.list.replaceChildren(...items);
    this.parts.empty.hidden = items.length > 0;
  }

  async saveAccess() {
    const access = this.parts.access.value;
    if (!(access in CALL_ACCESS)) {
      this._status(gettext("Choose who may join the call."), "error");
      return;
    }
    const done = CALL_ACCESS[access]();
    await this._change(this.parts.save, { access }, done);
  }

  async invite(raw) {
    const problem = inviteProblem(raw);
    if (problem !== null) {
      this._status(problem, "error");
      this.parts.inviteName.setAttribute("aria-invalid", "true");
      return;
    }
    const name = String(raw).trim();
    const done = interpolate(gettext("Invited %(name)s to the call."), { name });
    if (await this._change(this.parts.inviteButton, { invite: name }, done, name)) {
      this.parts.inviteName.value = "";
      this.parts.inviteName.removeAttribute("aria-invalid");
    } else {
      this.parts.inviteName.setAttribute("aria-invalid", "true");
    }
  }

  async uninvite(name, control) {
    const done = interpolate(gettext("%(name)s is no longer invited to the call."), { name });
    await this._change(control, { uninvite: name }, done, name);
  }

  async _change(control, body, done, name = "") {
    this._status(gettext("Saving…"), "busy");
    try {
      this.show(await busy(control, () => this.api.post("call_settings", body)));
      this._status(done, "ok");
      this.onChanged();
      return true;
    } catch (error) {
      this._status(callSettingsErrorText(error, name), "error");
      return false;
    }
  }

  _status(text, kind) {
    this.parts.status.textContent = text;
    this.parts.status.dataset.kind = kind;
    this.parts.status.setAttribute("role", kind === "error" ? "alert" : "status");
  }
}
