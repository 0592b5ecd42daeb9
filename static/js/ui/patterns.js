// The /pattern/ syntax of blocked words and keyword filters: the part of regular expressions
// that the server's engine (RE2) and this browser's `new RegExp(source, "i")` both accept and
// read the same way. It mirrors the server's check (chat/domain/patterns.py) reason for reason,
// so a pattern is refused here, before it is saved, with the sentence the server would answer;
// tests/pattern_cases.json holds the cases both are tested on. Only RE2's size limits cannot be
// known here: the server refuses a pattern too large for its matcher when it is saved.

import { gettext, gettext_noop, interpolate } from "./i18n.js";

const REPEAT_MAX = 1000;

// Each reason's msgid (translated where it is shown), with `%(max)s` for REPEAT_MAX and the
// part of the pattern it names (`%(piece)s`, `%(char)s`) where it has one.
const MESSAGES = Object.freeze({
  lookaround: gettext_noop("lookahead and lookbehind ((?=, (?!, (?<=, (?<!) are not supported"),
  named: gettext_noop("named groups and references ((?<name>, (?P<name>, \\k<name>) are not supported; use ( ) or (?: )"),
  inline: gettext_noop("inline flags and other (? groups are not supported (patterns always ignore case)"),
  backref: gettext_noop("backreferences and octal escapes (\\1, \\0) are not supported"),
  property: gettext_noop("Unicode property classes (\\p{...}, \\P{...}) are not supported"),
  hex2: gettext_noop("\\x takes two hex digits, as in \\x41"),
  hex4: gettext_noop("\\u takes four hex digits, as in \\u00e9 (not \\u{...})"),
  surrogate: gettext_noop("\\u cannot name half of a surrogate pair; write the character itself"),
  loneSurrogate: gettext_noop("it holds half of a surrogate pair, which is no character"),
  trailing: gettext_noop("it ends with a lone \\"),
  unclosedGroup: gettext_noop("a ( is not closed"),
  unopenedGroup: gettext_noop("a ) has no ( before it"),
  brace: gettext_noop("a { that is not a repetition such as {2} or {2,5}; write \\{ for the character"),
  count: gettext_noop("repetition counts are at most %(max)s"),
  countOrder: gettext_noop("in {n,m}, n must not be larger than m"),
  repeats: gettext_noop("its nested repetitions ({n,m} inside {n,m}) multiply to more than %(max)s"),
  unclosedClass: gettext_noop("a [ is not closed"),
  emptyClass: gettext_noop("[] and [^] are read differently by the server and browsers; write \\] for the character ]"),
  classBracket: gettext_noop("a [ inside [...] must be written \\[ (POSIX classes such as [[:alpha:]] are not supported)"),
  classHyphen:
    gettext_noop("a - inside [...] must come first, last, or between the ends of a range; write \\- for the character"),
  classRangeSet: gettext_noop("a range in [...] cannot start or end with \\d, \\w or \\s"),
  classRangeOrder: gettext_noop("a range in [...] is out of order"),
  classBackspace: gettext_noop("\\b inside [...] is not supported"),
  classNotSpace: gettext_noop("\\S inside [^...] is not supported"),
  astral: gettext_noop("characters beyond U+FFFF (most emoji) cannot be repeated or put inside [...]: browsers see two there"),
  matchesEmpty: gettext_noop("it matches empty text, so it would match every message"),
  invalid: gettext_noop("it is not a valid regular expression"),
  nothingToRepeat: gettext_noop("%(piece)s has nothing to repeat"),
  unsupportedEscape: gettext_noop("\\%(char)s is not supported"),
});

/** The reasons as the server words them in English (tests/pattern_cases.json). */
export const REASONS = Object.freeze(
  Object.fromEntries(Object.entries(MESSAGES).map(([key, msgid]) => [key, interpolate(msgid, { max: REPEAT_MAX })])),
);

const QUANTIFIER = /^\{(\d+)(,(\d*))?\}/;
const CONTROLS = { t: 9, n: 10, v: 11, f: 12, r: 13 };
const CLASS_SETS = new Set(["d", "D", "w", "W", "s", "S"]);

class PatternError extends Error {
  constructor(key, values) {
    super(key);
    this.problem = { key, values };
  }
}

/** Refuse the pattern: `key` names the reason in MESSAGES, `values` fill its placeholders. */
function fail(key, values = {}) {
  throw new PatternError(key, values);
}

const isSurrogate = (code) => code >= 0xd800 && code <= 0xdfff;
const isAsciiPunctuation = (char) => /^[\x20-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]$/.test(char);

/** Reads one pattern, by code point (so an emoji is one character, as on the server). */
class Reader {
  constructor(source) {
    this.chars = Array.from(source);
    this.at = 0;
  }

  rest() {
    return this.chars.slice(this.at).join("");
  }

  startsWith(text) {
    return this.rest().startsWith(text);
  }

  check() {
    const groups = [1]; // per open group: the largest product of nested counts inside it
    let repeatable = false;
    let lastRepeats = 1;
    let lastAstral = false;
    while (this.at < this.chars.length) {
      const char = this.chars[this.at];
      if ("*+?{".includes(char)) {
        let count = 1;
        let piece = char;
        if (char === "{") {
          const match = QUANTIFIER.exec(this.rest());
          if (!match) fail("brace");
          count = this.count(match);
          piece = match[0];
          this.at += match[0].length;
        } else {
          this.at += 1;
        }
        if (!repeatable) fail("nothingToRepeat", { piece });
        if (lastAstral) fail("astral");
        if (this.chars[this.at] === "?") this.at += 1;
        groups[groups.length - 1] = Math.max(groups.at(-1), lastRepeats * count);
        if (groups.at(-1) > REPEAT_MAX) fail("repeats");
        repeatable = false;
        continue;
      }
      repeatable = true;
      lastRepeats = 1;
      lastAstral = false;
      if (char === "\\") {
        repeatable = this.escape();
      } else if (char === "[") {
        this.characterClass();
      } else if (char === "(") {
        this.openGroup();
        groups.push(1);
        repeatable = false;
      } else if (char === ")") {
        if (groups.length === 1) fail("unopenedGroup");
        lastRepeats = groups.pop();
        groups[groups.length - 1] = Math.max(groups.at(-1), lastRepeats);
        this.at += 1;
      } else {
        repeatable = !"|^$".includes(char);
        lastAstral = char.codePointAt(0) > 0xffff;
        this.at += 1;
      }
    }
    if (groups.length > 1) fail("unclosedGroup");
  }

  count(match) {
    const low = Number(match[1]);
    const high = match[2] === undefined ? low : Number(match[3] || low);
    if (Math.max(low, high) > REPEAT_MAX) fail("count");
    if (match[3] && high < low) fail("countOrder");
    return Math.max(high, 1);
  }

  openGroup() {
    if (this.startsWith("(?:")) {
      this.at += 3;
      return;
    }
    if (["(?=", "(?!", "(?<=", "(?<!"].some((start) => this.startsWith(start))) fail("lookaround");
    if (this.startsWith("(?<") || this.startsWith("(?P")) fail("named");
    if (this.startsWith("(?")) fail("inline");
    this.at += 1;
  }

  /** An escape outside [...]; whether it may be repeated. */
  escape() {
    const char = this.escaped();
    if (char === "b" || char === "B") return false;
    if (!CLASS_SETS.has(char)) this.characterEscape(char);
    return true;
  }

  escaped() {
    if (this.at + 1 >= this.chars.length) fail("trailing");
    const char = this.chars[this.at + 1];
    this.at += 2;
    if (/^[0-9]$/.test(char)) fail("backref");
    if (char === "k") fail("named");
    if (char === "p" || char === "P") fail("property");
    return char;
  }

  /** The code point a one-character escape stands for. */
  characterEscape(char) {
    if (char in CONTROLS) return CONTROLS[char];
    if (char === "x" || char === "u") {
      const digits = (char === "x" ? /^[0-9A-Fa-f]{2}/ : /^[0-9A-Fa-f]{4}/).exec(this.rest());
      if (!digits) fail(char === "x" ? "hex2" : "hex4");
      const code = parseInt(digits[0], 16);
      if (isSurrogate(code)) fail("surrogate");
      this.at += digits[0].length;
      return code;
    }
    if (isAsciiPunctuation(char)) return char.codePointAt(0);
    return fail("unsupportedEscape", { char });
  }

  characterClass() {
    this.at += 1;
    const negated = this.chars[this.at] === "^";
    if (negated) this.at += 1;
    if (this.chars[this.at] === "]") fail("emptyClass");
    let members = 0;
    let notSpace = false;
    for (;;) {
      if (this.at >= this.chars.length) fail("unclosedClass");
      if (this.chars[this.at] === "]") {
        this.at += 1;
        break;
      }
      const first = members === 0 && !notSpace;
      const [start, startCode] = this.classAtom();
      if (this.chars[this.at] === "-" && this.chars[this.at + 1] !== "]") {
        this.at += 1;
        const [, endCode] = this.classAtom();
        if (startCode === null || endCode === null) fail("classRangeSet");
        if (endCode < startCode) fail("classRangeOrder");
        members += 1;
      } else if (start === "\\S") {
        notSpace = true;
      } else if (start === "-" && !first && this.chars[this.at] !== "]") {
        fail("classHyphen");
      } else {
        members += 1;
      }
    }
    if (notSpace && negated) fail("classNotSpace");
  }

  /** One member of a class: its spelling and code point (null for \d, \w, \s and the like). */
  classAtom() {
    if (this.at >= this.chars.length) fail("unclosedClass");
    const char = this.chars[this.at];
    if (char === "[") fail("classBracket");
    if (char !== "\\") {
      if (char.codePointAt(0) > 0xffff) fail("astral");
      this.at += 1;
      return [char, char.codePointAt(0)];
    }
    const escaped = this.escaped();
    if (escaped === "b") fail("classBackspace");
    if (CLASS_SETS.has(escaped)) return [`\\${escaped}`, null];
    return [`\\${escaped}`, this.characterEscape(escaped)];
  }
}

/**
 * Why a pattern (without its slashes) cannot be used, in the page's language (the server's
 * words), or null when both engines read it alike.
 * @param {string} source
 */
export function patternProblem(source) {
  const found = problem(source);
  return found === null ? null : interpolate(gettext(MESSAGES[found.key]), { max: REPEAT_MAX, ...found.values });
}

/** Which reason refuses the pattern ({key, values}), or null for a usable one. */
function problem(source) {
  const units = [...source].map((char) => char.codePointAt(0));
  if (units.some(isSurrogate)) return { key: "loneSurrogate", values: {} };
  try {
    new Reader(source).check();
  } catch (error) {
    if (error instanceof PatternError) return error.problem;
    throw error;
  }
  let expression;
  try {
    expression = new RegExp(source, "i");
  } catch {
    return { key: "invalid", values: {} }; // the check above should have named it first
  }
  return expression.test("") ? { key: "matchesEmpty", values: {} } : null;
}

/** Whether an entry of a block list is a /pattern/ rather than a plain word. */
export function isPattern(entry) {
  return entry.length > 2 && entry.startsWith("/") && entry.endsWith("/");
}

/**
 * The sentence the server answers for an unusable /pattern/ entry (naming it), in the page's
 * language, or null for a usable pattern or a plain word.
 * @param {string} entry
 */
export function entryProblem(entry) {
  if (!isPattern(entry)) return null;
  const reason = patternProblem(entry.slice(1, -1));
  return reason === null ? null : interpolate(gettext("%(entry)s cannot be used: %(reason)s."), { entry, reason });
}
