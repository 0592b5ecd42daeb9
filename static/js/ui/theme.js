// The theme picker: system, light or dark. The choice lives in a cookie, so the server renders
// every page in it (`<html data-theme>`, no flash of the other theme); "system" removes the
// cookie and follows the operating system's setting again (site.css: `light-dark()`).

export const THEMES = Object.freeze(["system", "light", "dark"]);
export const THEME_COOKIE = "theme";
const KEEP_SECONDS = 365 * 24 * 3600;

/** The theme a cookie string (document.cookie) names; "system" when none or a wrong one. */
export function themeFromCookies(cookies) {
  for (const part of String(cookies ?? "").split(";")) {
    const [name, ...rest] = part.trim().split("=");
    if (name === THEME_COOKIE) {
      const value = rest.join("=");
      return THEMES.includes(value) ? value : "system";
    }
  }
  return "system";
}

/** The Set-Cookie-style string that keeps `choice` (or forgets it, for "system"). */
export function themeCookie(choice, secure = false) {
  const flags = `; Path=/; SameSite=Lax${secure ? "; Secure" : ""}`;
  if (choice === "light" || choice === "dark") {
    return `${THEME_COOKIE}=${choice}; Max-Age=${KEEP_SECONDS}${flags}`;
  }
  return `${THEME_COOKIE}=; Max-Age=0${flags}`;
}

/** Show `choice` at once: the root's data-theme, which site.css turns into `color-scheme`. */
export function applyTheme(root, choice) {
  if (choice === "light" || choice === "dark") {
    root.dataset.theme = choice;
  } else {
    delete root.dataset.theme;
  }
}

/** Wire a <select> of THEMES: the page's theme follows it, and the cookie keeps it. */
export function mountThemePicker(select, doc) {
  select.value = themeFromCookies(doc.cookie);
  select.addEventListener("change", () => {
    const choice = THEMES.includes(select.value) ? select.value : "system";
    doc.cookie = themeCookie(choice, doc.location?.protocol === "https:");
    applyTheme(doc.documentElement, choice);
  });
}
