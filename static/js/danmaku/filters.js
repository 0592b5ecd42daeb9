// The viewer's filters: which comments this viewer does not want to see.
//
// hidden_modes   any of scroll, top, bottom, reverse, and "color" (every comment not in white)
// blocked_keywords  a comment containing one is hidden (case-insensitive); a keyword written
//                   /.../ is a regular expression, also case-insensitive, in the syntax the
//                   server also accepts (../ui/patterns.js)
// blocked_users  comments by these user names are hidden (case-insensitive)
//
// The viewer's own comments are exempt: someone who hid `top` comments still sees the top
// comment they just sent, so they know it went out.

import { gettext } from "../ui/i18n.js";
import { entryProblem, isPattern } from "../ui/patterns.js";

export const WHITE = "#ffffff";

/** A /.../ keyword as a RegExp, or null (not one, or not a pattern the server accepts). */
export function keywordPattern(keyword) {
  if (!isPattern(keyword) || entryProblem(keyword) !== null) return null;
  return new RegExp(keyword.slice(1, -1), "i");
}

/** Why a keyword cannot be saved (the server's sentence for a /pattern/), or null. */
export function keywordProblem(keyword) {
  const trimmed = keyword.trim();
  if (trimmed === "") return gettext("A keyword cannot be empty.");
  return entryProblem(trimmed);
}

/** Whether a keyword is usable: non-empty, and a pattern the server accepts when written /.../. */
export function isValidKeyword(keyword) {
  return keywordProblem(keyword) === null;
}

/**
 * A predicate over comments ({mode, color, text, user, mine}): true when the viewer wants it.
 * @param {{hidden_modes?: string[], blocked_keywords?: string[], blocked_users?: string[]}} settings
 */
export function compileFilter({ hidden_modes = [], blocked_keywords = [], blocked_users = [] } = {}) {
  const modes = new Set(hidden_modes);
  const hideColoured = modes.has("color");
  const words = [];
  const patterns = [];
  for (const raw of blocked_keywords) {
    const keyword = String(raw).trim();
    if (keyword === "") continue; // an empty keyword would match everything
    const pattern = keywordPattern(keyword);
    if (pattern) patterns.push(pattern);
    else if (!isPattern(keyword)) words.push(keyword.toLocaleLowerCase()); // invalid ones do nothing
  }
  const users = new Set(blocked_users.map((name) => String(name).trim().toLocaleLowerCase()));
  return (comment) => {
    if (comment.mine) return true;
    if (modes.has(comment.mode)) return false;
    if (hideColoured && comment.color !== WHITE) return false;
    if (comment.user && users.has(String(comment.user.name).toLocaleLowerCase())) return false;
    if (words.length || patterns.length) {
      const text = comment.text.toLocaleLowerCase();
      if (words.some((word) => text.includes(word))) return false;
      if (patterns.some((pattern) => pattern.test(comment.text))) return false;
    }
    return true;
  };
}
