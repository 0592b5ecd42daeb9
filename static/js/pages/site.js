// What every page of the site runs: the theme and language pickers in the header.
import { mountLanguagePicker } from "../ui/language.js";
import { mountThemePicker } from "../ui/theme.js";

const picker = document.querySelector("[data-theme-picker]");
if (picker) {
  mountThemePicker(picker, document);
}
const language = document.querySelector("[data-language-picker]");
if (language) {
  mountLanguagePicker(language);
}
