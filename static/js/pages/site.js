// What every page of the site runs: the theme picker in the header.
import { mountThemePicker } from "../ui/theme.js";

const picker = document.querySelector("[data-theme-picker]");
if (picker) {
  mountThemePicker(picker, document);
}
