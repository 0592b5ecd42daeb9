// The blocked words' dry run on the settings panel: the words typed (saved or not) tried on the
// room's last 1,000 messages, showing what they would have caught and which entry caught each,
// before saving. User text goes in as text.

import { gettext, interpolate, ngettext, pgettext } from "../ui/i18n.js";
import { busy, element, formatNumber, userText } from "./dom.js";

/** The blocked-words textarea's lines as the settings form sends them. */
export function typedWords(value) {
  return value
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");
}

/** The summary line of a dry run's answer. */
export function dryRunSummary({ checked, caught }, language = undefined) {
  if (checked === 0) return gettext("There are no messages to try them on yet.");
  const values = { checked: formatNumber(checked, language), caught: formatNumber(caught, language) };
  if (caught === 0) {
    return interpolate(
      ngettext(
        "They would have caught none of the last %(checked)s message.",
        "They would have caught none of the last %(checked)s messages.",
        checked,
      ),
      values,
    );
  }
  return interpolate(
    ngettext(
      "They would have caught %(caught)s of the last %(checked)s message.",
      "They would have caught %(caught)s of the last %(checked)s messages.",
      checked,
    ),
    values,
  );
}

export class DryRun {
  /**
   * @param {{button: HTMLButtonElement, words: HTMLTextAreaElement, summary: HTMLElement, list: HTMLElement}} parts
   * @param {import("./api.js").ModApi} api
   */
  constructor(parts, api) {
    Object.assign(this, { parts, api });
    parts.button.addEventListener("click", () => this.run());
  }

  async run() {
    const { button, words, summary, list } = this.parts;
    try {
      const answer = await busy(button, () => this.api.post("dry_run", { blocked_words: typedWords(words.value) }));
      this.show(answer);
    } catch (error) {
      summary.textContent = error.message || gettext("The dry run failed.");
      summary.dataset.kind = "error";
      list.replaceChildren();
    }
  }

  show(answer) {
    const { summary, list } = this.parts;
    summary.textContent = dryRunSummary(answer);
    summary.dataset.kind = "ok";
    list.replaceChildren(
      ...answer.messages.map((message) => {
        const item = element("li", "dry-run-item");
        item.dataset.testid = "dry-run-item";
        item.append(
          userText("span", "review-author", message.user ?? gettext("someone")),
          userText("span", "review-text", message.text),
          userText("span", "dry-run-entries", message.entries.join(pgettext("list separator", ", "))),
        );
        return item;
      }),
    );
  }
}
