// A message's text as DOM nodes: http(s) links become <a> elements, "@name" mentions of the
// reader are marked, everything else stays text. Nothing is parsed as markup: every piece goes
// in as a text node or through textContent, and a link's address is set as a property after
// the URL parser has accepted it. No preview of a link is ever fetched.
//
// Links open in a new tab (target=_blank): leaving a live room by following a link would drop
// the reader's connection and place in the scrollback. rel="nofollow ugc noopener" tells search
// engines the link is user content and keeps the opened page from reaching this one.

export const LINK_REL = "nofollow ugc noopener";

// A candidate link: the scheme, then anything up to whitespace. Trailing punctuation that
// usually ends a sentence is handed back to the text (see trimLink).
const LINK_PATTERN = /\bhttps?:\/\/[^\s<>"]+/giu;
// "@" then a name: letters, digits, marks and . _ - (the shapes user names take).
const MENTION_PATTERN = /(^|[^\p{L}\p{N}_@])@([\p{L}\p{N}\p{M}._-]+)/gu;
const TRAILING = /[.,;:!?'"»)\]}>]+$/u;

/** Split a candidate at the end of a link: "https://x.org/a)." -> ["https://x.org/a", ")."], keeping balanced parentheses. */
export function trimLink(candidate) {
  let link = candidate;
  let tail = "";
  for (;;) {
    const match = TRAILING.exec(link);
    if (!match) break;
    const last = link.at(-1);
    if (last === ")" && count(link, "(") >= count(link, ")")) break;
    link = link.slice(0, -1);
    tail = last + tail;
  }
  return [link, tail];
}

function count(text, character) {
  return text.split(character).length - 1;
}

/** The href for a candidate, or null unless it parses as an http(s) URL with a host. */
export function safeHref(candidate) {
  let url;
  try {
    url = new URL(candidate);
  } catch {
    return null;
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || !url.hostname) return null;
  return url.href;
}

/**
 * The pieces of a text: {type: "text"|"link"|"mention", text, href?}. A mention is only marked
 * when it names `meName` (compared case-insensitively), that is for the person mentioned.
 */
export function tokenize(text, { meName = null } = {}) {
  const pieces = [];
  let at = 0;
  for (const match of text.matchAll(LINK_PATTERN)) {
    const [link] = trimLink(match[0]);
    const href = safeHref(link);
    if (!href) continue;
    pieces.push(...mentions(text.slice(at, match.index), meName));
    pieces.push({ type: "link", text: link, href });
    at = match.index + link.length;
  }
  pieces.push(...mentions(text.slice(at), meName));
  return pieces.filter((piece) => piece.text !== "");
}

function mentions(text, meName) {
  if (!meName || !text.includes("@")) return [{ type: "text", text }];
  const wanted = meName.toLocaleLowerCase();
  const pieces = [];
  let at = 0;
  for (const match of text.matchAll(MENTION_PATTERN)) {
    // A name may be followed by sentence punctuation ("@ann," "@ann."): compare without it.
    let name = match[2];
    while (name && ".-_".includes(name.at(-1)) && name.toLocaleLowerCase() !== wanted) name = name.slice(0, -1);
    if (name.toLocaleLowerCase() !== wanted) continue;
    const start = match.index + match[1].length;
    pieces.push({ type: "text", text: text.slice(at, start) });
    pieces.push({ type: "mention", text: `@${name}` });
    at = start + 1 + name.length;
  }
  pieces.push({ type: "text", text: text.slice(at) });
  return pieces;
}

/**
 * Fill `container` with the text's pieces. Returns whether the reader (meName) was mentioned.
 */
export function renderRichText(container, text, { meName = null } = {}) {
  const nodes = [];
  let mentioned = false;
  for (const piece of tokenize(text ?? "", { meName })) {
    if (piece.type === "text") {
      nodes.push(piece.text);
    } else if (piece.type === "link") {
      const link = document.createElement("a");
      link.className = "msg-link";
      link.href = piece.href;
      link.rel = LINK_REL;
      link.target = "_blank";
      link.textContent = piece.text;
      nodes.push(link);
    } else {
      const mark = document.createElement("mark");
      mark.className = "mention";
      mark.textContent = piece.text;
      nodes.push(mark);
      mentioned = true;
    }
  }
  container.replaceChildren(...nodes);
  return mentioned;
}
