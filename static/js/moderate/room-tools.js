// The moderator's page's tools for the whole room: clearing it (asked twice, it cannot be
// undone) and importing a Bilibili or Niconico XML file of comments.

import { gettext, interpolate, ngettext, pgettext } from "../ui/i18n.js";
import { busy, formatNumber } from "./dom.js";

/**
 * Clear asks once more: the button shows a confirmation with Yes and No.
 * @param {{api, notice, refresher, reason}} services ModApi, Notice, Refresher, ReasonField
 */
export function wireClearRoom({ button, confirm, yes, no }, { api, notice, refresher, reason }) {
  const close = () => {
    confirm.hidden = true;
    button.hidden = false;
  };
  button.addEventListener("click", () => {
    button.hidden = true;
    confirm.hidden = false;
    no.focus();
  });
  no.addEventListener("click", close);
  yes.addEventListener("click", async (click) => {
    const field = reason.take();
    try {
      await busy(click.currentTarget, () => api.post("clear", field));
      reason.used(field);
      notice.show(gettext("Cleared the room."));
      refresher.changed();
    } catch (error) {
      notice.error(error, gettext("Could not clear the room"));
    } finally {
      close();
    }
  });
}

// The services whose comment files the import reads, by the answer's format.
const FORMATS = { bilibili: () => gettext("Bilibili"), niconico: () => gettext("Niconico") };

// Why comments were skipped, by the server's code; another code is shown as it is.
const SKIPPED = {
  unsupported_mode: () => pgettext("skipped comments", "unsupported mode"),
  code_comment: () => pgettext("skipped comments", "code comment"),
  malformed: () => pgettext("skipped comments", "malformed"),
};

const counts = (counted, names = {}) =>
  Object.entries(counted && typeof counted === "object" ? counted : {})
    .map(([name, count]) =>
      interpolate(gettext("%(name)s %(count)s"), {
        name: names[name] ? names[name]() : name,
        count: formatNumber(Number(count)),
      }),
    )
    .join(pgettext("list separator", ", "));

/**
 * What an import did, in one line: how many comments from which format, what was skipped and
 * why, and which of the file's commands (Niconico's `184`, `device:...`) were ignored.
 * @param {{imported: number, format?: string, skipped?: object, ignored_commands?: object}} answer
 */
export function importReport(answer) {
  const format = Object.hasOwn(FORMATS, answer.format) ? FORMATS[answer.format]() : undefined;
  const skipped = counts(answer.skipped, SKIPPED);
  const ignored = counts(answer.ignored_commands);
  const count = formatNumber(answer.imported);
  const imported = format
    ? interpolate(ngettext("Imported %(count)s comment from a %(format)s file.", "Imported %(count)s comments from a %(format)s file.", answer.imported), { count, format })
    : interpolate(ngettext("Imported %(count)s comment.", "Imported %(count)s comments.", answer.imported), { count });
  return [
    imported,
    skipped ? interpolate(gettext(" Skipped: %(counts)s."), { counts: skipped }) : "",
    ignored ? interpolate(gettext(" Ignored commands: %(counts)s."), { counts: ignored }) : "",
  ].join("");
}

/** The import form: upload the file, then say what was imported and what was skipped. */
export function wireImport(form, report, { api, notice, audit }) {
  form.addEventListener("submit", async (submit) => {
    submit.preventDefault();
    const file = form.elements.file.files[0];
    if (!file) return;
    const control = form.querySelector('button[type="submit"]');
    try {
      const answer = await busy(control, () => api.upload("import", file));
      report.textContent = importReport(answer);
      report.hidden = false;
      form.reset();
      audit.refresh();
    } catch (error) {
      notice.error(error, gettext("Could not import the file"));
    }
  });
}
