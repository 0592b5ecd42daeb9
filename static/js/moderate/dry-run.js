// The blocked words' dry run on the settings panel: the words typed (saved or not) tried on the
// room's last 1,000 messages, showing what they would have caught and which entry caught each,
// before saving. User text goes in as text.

import { busy, element, userText } from "./dom.js";

/** The blocked-words textarea's lines as the settings form sends them. */
export function typedWords(value) {
  return value
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");
}

/** The summary line of a dry run's answer. */
export function dryRunSummary({ checked, caught }) {
  if (checked === 0) return "There are no messages to try them on yet.";
  const of = `of the last ${checked.toLocaleString("en")} ${checked === 1 ? "message" : "messages"}`;
  if (caught === 0) return `They would have caught none ${of}.`;
  return `They would have caught ${caught} ${of}.`;
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
      summary.textContent = error.message || "The dry run failed.";
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
          userText("span", "review-author", message.user ?? "someone"),
          userText("span", "review-text", message.text),
          userText("span", "dry-run-entries", message.entries.join(", ")),
        );
        return item;
      }),
    );
  }
}
