// The viewer's filters: which comments this viewer does not want to see.
//
// hidden_modes   any of scroll, top, bottom, reverse, and "color" (every comment not in white)
// blocked_keywords  a comment containing one is hidden (case-insensitive); a keyword written
//                   /.../ is a regular expression, also case-insensitive
// blocked_users  comments by these user names are hidden (case-insensitive)
//
// The viewer's own comments are exempt: someone who hid `top` comments still sees the top
// comment they just sent, so they know it went out.

export const WHITE = "#ffffff";

function looksLikePattern(keyword) {
  return keyword.length >= 3 && keyword.startsWith("/") && keyword.endsWith("/");
}

/** A /.../ keyword as a RegExp, or null (not one, or not a valid expression). */
export function keywordPattern(keyword) {
  if (!looksLikePattern(keyword)) return null;
  try {
    return new RegExp(keyword.slice(1, -1), "i");
  } catch {
    return null;
  }
}

/** Whether a keyword is usable: non-empty, and a valid expression when written /.../. */
export function isValidKeyword(keyword) {
  const trimmed = keyword.trim();
  if (trimmed === "") return false;
  return !looksLikePattern(trimmed) || keywordPattern(trimmed) !== null;
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
    else if (!looksLikePattern(keyword)) words.push(keyword.toLocaleLowerCase()); // invalid ones do nothing
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
