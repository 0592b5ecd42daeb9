// The viewer-settings panel of the watch page: its controls show the store's settings and
// change them (settings-store.js). Controls are found by data attributes in the template:
//   data-setting="show|merge_repeats|opacity|speed|scale|area"  a checkbox, range or select; a range's min
//                                                  and max are RANGES (viewer-settings.js)
//   data-output="<key>"                            shows a range's value
//   data-hide-mode="scroll|top|bottom|reverse|color"  a checkbox per hideable kind
//   data-list="blocked_keywords|blocked_users"     a block list: its input, add button, list, error
//   data-role="settings-status"                    where saving is reported

import { formatNumber, gettext, interpolate, ngettext, pageLanguage } from "../ui/i18n.js";
import { keywordProblem } from "./filters.js";
import { ENTRY_MAX_CHARS, LIST_MAX, RANGES } from "./viewer-settings.js";

// A range's value as the page's language writes it: a percentage, or a speed with its ×.
const percent = (value) =>
  new Intl.NumberFormat(pageLanguage(), { style: "percent", maximumFractionDigits: 0 }).format(value);
const FORMATS = {
  opacity: percent,
  speed: (value) =>
    interpolate(gettext("%(speed)s×"), { speed: formatNumber(value) }),
  scale: percent,
};

/** What the panel says about saving the settings (`message`: the server's, when it failed). */
export function statusText(state, message = "") {
  switch (state) {
    case "local":
      return gettext("Saved in this browser.");
    case "saving":
      return gettext("Saving…");
    case "saved":
      return gettext("Saved to your account.");
    case "error":
      return interpolate(gettext("Could not save to your account: %(reason)s"), { reason: message });
    default:
      return "";
  }
}

/** Why an entry cannot join a block list of `length` entries, or null. */
export function entryLimitProblem(entry, length) {
  if (entry.length > ENTRY_MAX_CHARS) {
    return interpolate(
      ngettext("At most %(count)s character.", "At most %(count)s characters.", ENTRY_MAX_CHARS),
      { count: ENTRY_MAX_CHARS },
    );
  }
  if (length >= LIST_MAX) {
    return interpolate(ngettext("At most %(count)s entry.", "At most %(count)s entries.", LIST_MAX), {
      count: LIST_MAX,
    });
  }
  return null;
}

function showControls(root, settings) {
  for (const control of root.querySelectorAll("[data-setting]")) {
    const key = control.dataset.setting;
    if (control.type === "checkbox") control.checked = Boolean(settings[key]);
    else control.value = String(settings[key]);
  }
  for (const output of root.querySelectorAll("[data-output]")) {
    const key = output.dataset.output;
    output.textContent = (FORMATS[key] ?? String)(settings[key]);
  }
  for (const box of root.querySelectorAll("[data-hide-mode]")) {
    box.checked = settings.hidden_modes.includes(box.dataset.hideMode);
  }
}

function readControl(control) {
  if (control.type === "checkbox") return control.checked;
  return Number(control.value);
}

/** A block list editor: add with the button or Enter, remove with each entry's button. */
function bindList(container, key, store) {
  const input = container.querySelector("[data-list-input]");
  const addButton = container.querySelector("[data-list-add]");
  const list = container.querySelector("[data-list-items]");
  const error = container.querySelector("[data-list-error]");

  const fail = (message) => {
    error.textContent = message;
    error.hidden = message === "";
  };
  const add = () => {
    const entry = input.value.trim();
    const current = store.get()[key];
    if (entry === "") return;
    if (entry.length > ENTRY_MAX_CHARS) return fail(entryLimitProblem(entry, 0));
    const problem = key === "blocked_keywords" ? keywordProblem(entry) : null;
    if (problem !== null) return fail(problem);
    if (!current.includes(entry)) {
      if (current.length >= LIST_MAX) return fail(entryLimitProblem(entry, current.length));
      store.update({ [key]: [...current, entry] });
    }
    input.value = "";
    fail("");
  };
  addButton.addEventListener("click", add);
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      add();
    }
  });

  return (settings) => {
    const items = settings[key].map((entry) => {
      const item = document.createElement("li");
      const text = document.createElement("span");
      text.className = "block-entry";
      text.textContent = entry;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "link-button";
      remove.textContent = gettext("Remove");
      remove.setAttribute("aria-label", interpolate(gettext("Remove “%(entry)s”"), { entry }));
      remove.addEventListener("click", () => {
        store.update({ [key]: store.get()[key].filter((value) => value !== entry) });
      });
      item.append(text, " ", remove);
      return item;
    });
    list.replaceChildren(...items);
  };
}

/** Wire the panel's controls to `store`. */
export function bindSettingsPanel(root, store) {
  const status = root.querySelector('[data-role="settings-status"]');
  const lists = [...root.querySelectorAll("[data-list]")].map((container) =>
    bindList(container, container.dataset.list, store),
  );
  const render = (settings) => {
    showControls(root, settings);
    for (const renderList of lists) renderList(settings);
  };

  for (const control of root.querySelectorAll("[data-setting]")) {
    const range = RANGES[control.dataset.setting];
    if (control.type === "range" && range) [control.min, control.max] = range.map(String);
    const eventName = control.type === "range" ? "input" : "change";
    control.addEventListener(eventName, () => {
      store.update({ [control.dataset.setting]: readControl(control) });
    });
  }
  for (const box of root.querySelectorAll("[data-hide-mode]")) {
    box.addEventListener("change", () => {
      const hidden = [...root.querySelectorAll("[data-hide-mode]")]
        .filter((each) => each.checked)
        .map((each) => each.dataset.hideMode);
      store.update({ hidden_modes: hidden });
    });
  }
  store.addEventListener("change", (event) => render(event.detail));
  if (status) {
    const showStatus = ({ state, message }) => {
      status.dataset.state = state;
      status.textContent = statusText(state, message);
    };
    store.addEventListener("status", (event) => showStatus(event.detail));
    showStatus({ state: store.state, message: "" });
  }
  render(store.get());
}
