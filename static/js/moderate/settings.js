// The room settings form: filled from the server's settings, read back into the JSON the
// settings endpoint takes; it tells when someone else changed them while this form was edited.
// Blocked /patterns/ are checked as the server checks them (../ui/patterns.js) before saving,
// and saved ones the server's rules now refuse (they match nothing) are pointed out.

import { gettext, interpolate } from "../ui/i18n.js";
import { entryProblem } from "../ui/patterns.js";

const LIMITS = {
  slow_mode_seconds: { low: 0, high: 3600, problem: () => gettext("Slow mode must be a whole number from %(low)s to %(high)s.") },
  review_account_age_hours: {
    low: 0,
    high: 8760,
    problem: () => gettext("The account age must be a whole number from %(low)s to %(high)s."),
  },
  unique_chat_seconds: {
    low: 1,
    high: 3600,
    problem: () => gettext("Unique chat's window must be a whole number from %(low)s to %(high)s."),
  },
  chat_delay_seconds: { low: 0, high: 60, problem: () => gettext("Chat delay must be a whole number from %(low)s to %(high)s.") },
};

/** The server's sentence for each entry of a blocked-words list it refuses (each names its entry). */
export function blockedWordProblems(words) {
  return words.map(entryProblem).filter((problem) => problem !== null);
}

export class SettingsForm {
  /**
   * @param {HTMLFormElement} form
   * @param {{status: HTMLElement, changed: HTMLElement, reload: HTMLElement, ageField: HTMLElement,
   *   blockedProblems?: HTMLElement}} parts blockedProblems lists saved patterns that match nothing
   * @param {(settings: object) => Promise<object>} save posts the settings; resolves with the saved ones
   */
  constructor(form, parts, save) {
    this.form = form;
    this.parts = parts;
    this.save = save;
    this.current = null; // the settings as the server last told us
    this.pending = null; // settings changed elsewhere while this form was being edited
    this.dirty = false;
    form.addEventListener("input", () => this._edited());
    form.addEventListener("change", () => this._edited());
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this._submit();
    });
    parts.reload.addEventListener("click", () => this.fill(this.pending ?? this.current));
  }

  /** Show `settings` and forget unsaved edits. */
  fill(settings) {
    if (!settings) return;
    this.current = settings;
    this.pending = null;
    const fields = this.form.elements;
    if ("slow_mode_seconds" in settings) fields.slow_mode_seconds.value = String(settings.slow_mode_seconds);
    if ("posting" in settings) fields.posting.value = settings.posting;
    if ("private" in settings) fields.private.checked = Boolean(settings.private);
    if ("blocked_words" in settings) {
      fields.blocked_words.value = (settings.blocked_words ?? []).join("\n");
      this._showStoredProblems(settings.blocked_words ?? []);
    }
    if ("blocked_action" in settings) fields.blocked_action.value = settings.blocked_action;
    if ("review" in settings) fields.review.value = settings.review;
    if ("removed_display" in settings) fields.removed_display.value = settings.removed_display;
    if ("unique_chat" in settings) fields.unique_chat.checked = Boolean(settings.unique_chat);
    if ("unique_chat_seconds" in settings) fields.unique_chat_seconds.value = String(settings.unique_chat_seconds);
    if ("chat_delay_seconds" in settings) fields.chat_delay_seconds.value = String(settings.chat_delay_seconds);
    if ("review_account_age_hours" in settings) {
      fields.review_account_age_hours.value = String(settings.review_account_age_hours);
    }
    this.dirty = false;
    this.parts.changed.hidden = true;
    this._clearInvalid();
    this._showAgeField();
  }

  /** Settings arrived from the server (a settings event, a state refresh). */
  update(settings) {
    if (!settings) return;
    if (!this.dirty) {
      this.fill({ ...(this.current ?? {}), ...settings });
      return;
    }
    const merged = { ...(this.current ?? {}), ...settings };
    if (JSON.stringify(merged) !== JSON.stringify(this.current)) {
      this.pending = merged;
      this.parts.changed.hidden = false;
    }
  }

  /** The form's values in the settings endpoint's shape, or throws a RangeError naming a field. */
  read() {
    const fields = this.form.elements;
    const number = (name) => {
      const { low, high, problem } = LIMITS[name];
      const raw = fields[name].value.trim();
      const value = Number(raw);
      if (raw === "" || !Number.isInteger(value) || value < low || value > high) {
        // The bounds as the number field takes them (no digit grouping).
        const error = new RangeError(interpolate(problem(), { low, high }));
        error.field = name;
        throw error;
      }
      return value;
    };
    const blockedWords = fields.blocked_words.value
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line !== "");
    const [problem] = blockedWordProblems(blockedWords);
    if (problem !== undefined) {
      const error = new RangeError(problem);
      error.field = "blocked_words";
      throw error;
    }
    return {
      slow_mode_seconds: number("slow_mode_seconds"),
      posting: fields.posting.value,
      private: fields.private.checked,
      blocked_words: blockedWords,
      blocked_action: fields.blocked_action.value,
      review: fields.review.value,
      review_account_age_hours: number("review_account_age_hours"),
      removed_display: fields.removed_display.value,
      unique_chat: fields.unique_chat.checked,
      unique_chat_seconds: number("unique_chat_seconds"),
      chat_delay_seconds: number("chat_delay_seconds"),
    };
  }

  async _submit() {
    this._clearInvalid();
    let settings;
    try {
      settings = this.read();
    } catch (error) {
      this._status(error.message, "error");
      this._markInvalid(error.field);
      return;
    }
    const submit = this.form.querySelector('button[type="submit"]');
    submit.disabled = true;
    this._status(gettext("Saving…"), "busy");
    try {
      const saved = await this.save(settings);
      this.fill(saved ?? settings);
      this._status(gettext("Saved."), "ok");
    } catch (error) {
      this._status(error.message || gettext("The settings could not be saved."), "error");
      if (error.field) this._markInvalid(error.field);
    } finally {
      submit.disabled = false;
    }
  }

  _edited() {
    this.dirty = true;
    this._showAgeField();
    if (this.parts.status.dataset.kind === "ok") this._status("", "");
  }

  _showStoredProblems(words) {
    const box = this.parts.blockedProblems;
    if (!box) return;
    const problems = blockedWordProblems(words);
    box.textContent = problems.length
      ? interpolate(gettext("Saved, but matching nothing until fixed: %(problems)s"), { problems: problems.join(" ") })
      : "";
    box.hidden = problems.length === 0;
  }

  _showAgeField() {
    const relevant = this.form.elements.review.value === "new_accounts";
    this.parts.ageField.classList.toggle("field-inactive", !relevant);
  }

  _status(text, kind) {
    this.parts.status.textContent = text;
    this.parts.status.dataset.kind = kind;
  }

  _markInvalid(name) {
    const field = name ? this.form.elements[name] : null;
    if (!field || typeof field.focus !== "function") return;
    field.setAttribute("aria-invalid", "true");
    field.focus();
  }

  _clearInvalid() {
    for (const field of this.form.querySelectorAll('[aria-invalid="true"]')) field.removeAttribute("aria-invalid");
  }
}
