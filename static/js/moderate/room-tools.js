// The moderator's page's tools for the whole room: clearing it (asked twice, it cannot be
// undone) and importing a Bilibili XML file of comments.

import { busy } from "./dom.js";

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
      notice.show("Cleared the room.");
      refresher.changed();
    } catch (error) {
      notice.error(error, "Could not clear the room");
    } finally {
      close();
    }
  });
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
      const skipped = Object.entries(answer.skipped || {})
        .map(([why, count]) => `${why} ${count}`)
        .join(", ");
      report.textContent = `Imported ${answer.imported} comments.${skipped ? ` Skipped: ${skipped}.` : ""}`;
      report.hidden = false;
      form.reset();
      audit.refresh();
    } catch (error) {
      notice.error(error, "Import");
    }
  });
}
