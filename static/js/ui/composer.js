// A page's composer: the form that posts what was typed, says why a post was refused (or that
// a moderator will review it), and keeps the text when it was not taken.

import { loginAddress, postingErrorText } from "./error-texts.js";
import { gettext } from "./i18n.js";

// Refusals that only say the connection was down: stale once it is live again.
const CONNECTION_CODES = new Set(["not_connected", "disconnected"]);

/** Show `problem` (a RoomError, or {code: "held", message}) in `box`, or hide it for null. */
export function showPostingError(box, problem, { noun = "message" } = {}) {
  if (problem === null) {
    box.hidden = true;
    box.dataset.code = "";
    box.replaceChildren();
    return;
  }
  box.dataset.code = problem.code ?? "";
  box.textContent = postingErrorText(problem, { noun });
  if (problem.code === "login_required") {
    const link = document.createElement("a");
    link.href = loginAddress(window.location.pathname);
    link.textContent = gettext("Log in");
    box.append(" ", link);
  }
  box.hidden = false;
}

/**
 * Post `input`'s text when `form` is submitted: `send(text)` returns RoomClient's answer (a
 * promise). A taken post empties the input (unless it was edited meanwhile) and calls
 * onSent(answer, text); a refused one keeps it, says why in `error` (until the text is edited)
 * and calls onRefused(problem). `noun` names what is posted in those sentences ("message",
 * "comment"). Returns {connected()}: the page calls it when the connection is live again,
 * which clears a "Not connected" that no longer holds.
 */
export function wireComposer(
  form,
  { input, error, send, noun = "message", onSent = () => {}, onRefused = () => {} },
) {
  let sending = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value;
    if (sending || text.trim() === "") return;
    sending = true;
    form.setAttribute("aria-busy", "true");
    try {
      const answer = await send(text);
      // Taken, but held: a moderator reviews it before anyone sees it.
      showPostingError(error, answer?.held ? { code: "held", message: answer.message } : null, { noun });
      if (input.value === text) input.value = "";
      onSent(answer, text);
    } catch (problem) {
      showPostingError(error, problem, { noun });
      onRefused(problem);
    } finally {
      sending = false;
      form.removeAttribute("aria-busy");
      input.focus();
    }
  });
  input.addEventListener("input", () => {
    if (!error.hidden) showPostingError(error, null);
  });
  return {
    connected() {
      if (!error.hidden && CONNECTION_CODES.has(error.dataset.code)) showPostingError(error, null);
    },
  };
}
