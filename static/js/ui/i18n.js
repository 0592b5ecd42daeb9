// The browser client's strings in the page's language. Every string the client shows goes
// through `gettext` (or `ngettext`, `pgettext`) here: `makemessages -d djangojs` finds those
// calls in static/js, and the translations come from the catalog the server embeds in each page
// (`<script type="application/json" id="i18n-catalog">`, chat/web/language.py) or serves at
// /i18n/catalog.json. Without a catalog (English, or a unit test) each string is its own msgid.

const EMPTY = Object.freeze({ catalog: {}, plural: null });
let current = EMPTY;
let pluralIndex = englishPlural;

function englishPlural(count) {
  return count === 1 ? 0 : 1;
}

/** The plural rule of a catalog: gettext's C expression, with `n`, evaluated without eval. */
export function pluralRule(expression) {
  if (expression == null || expression === "") {
    return englishPlural;
  }
  const text = String(expression).replace(/\s+/g, "");
  if (text === "0") {
    return () => 0; // Chinese, Japanese: one form
  }
  if (text === "n!=1" || text === "(n!=1)") {
    return englishPlural;
  }
  if (text === "n>1" || text === "(n>1)") {
    return (count) => (count > 1 ? 1 : 0);
  }
  return englishPlural; // a rule this client does not know: English's, rather than a wrong form
}

/** Use `data` ({catalog, plural}) from now on; null goes back to the msgids themselves. */
export function setCatalog(data) {
  current = data && typeof data === "object" && data.catalog ? data : EMPTY;
  pluralIndex = pluralRule(current.plural);
}

/** Read the catalog the page embeds, if it has one (pages call this once, early). */
export function loadPageCatalog(doc = globalThis.document) {
  const element = doc?.getElementById?.("i18n-catalog");
  if (!element) {
    return;
  }
  try {
    setCatalog(JSON.parse(element.textContent));
  } catch {
    setCatalog(null);
  }
}

/** `msgid` in the page's language. */
export function gettext(msgid) {
  const found = current.catalog[msgid];
  if (typeof found === "string" && found !== "") {
    return found;
  }
  if (Array.isArray(found) && typeof found[0] === "string" && found[0] !== "") {
    return found[0];
  }
  return msgid;
}

/** `msgid` itself, marked for extraction: for a table of msgids translated later, with
 *  `gettext(msgid)` where one is shown. */
export function gettext_noop(msgid) {
  return msgid;
}

/** The form of `singular`/`plural` for `count` in the page's language. */
export function ngettext(singular, plural, count) {
  const found = current.catalog[singular];
  if (Array.isArray(found)) {
    const form = found[pluralIndex(count)] ?? found[0];
    if (typeof form === "string" && form !== "") {
      return form;
    }
  }
  return englishPlural(count) === 0 ? singular : plural;
}

/** `msgid` in `context` (the same English word meaning two things). */
export function pgettext(context, msgid) {
  const key = `${context}\u0004${msgid}`;
  const found = gettext(key);
  return found === key ? msgid : found;
}

/** `template` with each `%(name)s` replaced by `values[name]` (Python's and Django's form, so one
 *  msgid reads the same in both), and `%%` by `%`. A name not in `values` is left as written. */
export function interpolate(template, values = {}) {
  return interpolateParts(template, values).map(String).join("");
}

/** `template` split around its `%(name)s` placeholders, each replaced by `values[name]` as it is
 *  (a DOM node stays a node): for `element.replaceChildren(...parts)`, where a translated sentence
 *  holds a name in a <bdi> of its own. Text parts are strings, never parsed as HTML. */
export function interpolateParts(template, values = {}) {
  const parts = [];
  let last = 0;
  const text = String(template);
  for (const match of text.matchAll(/%(?:\((\w+)\)s|%)/g)) {
    const [whole, name] = match;
    let value = whole;
    if (name === undefined) {
      value = "%";
    } else if (Object.hasOwn(values, name)) {
      value = values[name];
    }
    parts.push(text.slice(last, match.index), value);
    last = match.index + whole.length;
  }
  parts.push(text.slice(last));
  return parts.filter((part) => part !== "");
}

/** The page's language (its <html lang>), for Intl's formats; "en" without a page. */
export function pageLanguage(doc = globalThis.document) {
  return doc?.documentElement?.lang || "en";
}

/** `language` as Intl takes it: undefined (the browser's own) for a tag Intl refuses. */
export function intlLocale(language) {
  try {
    Intl.getCanonicalLocales(language);
    return language;
  } catch {
    return undefined;
  }
}

// Each language's number format, made once.
const NUMBER_FORMATS = new Map();

/** `value` with the digit grouping of `language` (the page's): 1,234 in English. */
export function formatNumber(value, language = pageLanguage()) {
  let format = NUMBER_FORMATS.get(language);
  if (format === undefined) {
    format = new Intl.NumberFormat(intlLocale(language));
    NUMBER_FORMATS.set(language, format);
  }
  return format.format(value);
}

// The page's catalog, read before any module that imports this one runs its own top level (ES
// modules evaluate their imports first), so module-level strings are translated too.
if (typeof document !== "undefined") {
  loadPageCatalog(document);
}
