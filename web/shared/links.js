// Web links in message text: only http(s) URLs become links, everything else stays text.

import { h } from "./dom.js";

const URL_IN_TEXT = /\bhttps?:\/\/[^\s<>"'`]+/gi;

/** An http(s) URL as a normalised string, or null for anything else (javascript:, data:, junk). */
export function safeHttpUrl(s) {
  if (!s) return null;
  try {
    const u = new URL(s);
    return u.protocol === "https:" || u.protocol === "http:" ? u.href : null;
  } catch {
    return null;
  }
}

/** The text as text nodes, with each http(s) URL in it made a link that opens a new tab. */
export function linkify(text) {
  const frag = document.createDocumentFragment();
  let last = 0;
  for (const m of text.matchAll(URL_IN_TEXT)) {
    let url = m[0];
    // Trailing punctuation belongs to the sentence, not the link (keep balanced parentheses).
    while (/[.,;:!?'")\]]$/.test(url)) {
      if (url.endsWith(")") && (url.match(/\(/g) || []).length >= (url.match(/\)/g) || []).length) break;
      url = url.slice(0, -1);
    }
    const href = safeHttpUrl(url);
    if (!href) continue;
    if (m.index > last) frag.append(text.slice(last, m.index));
    frag.append(h("a", { href, target: "_blank", rel: "noopener noreferrer nofollow", text: url }));
    last = m.index + url.length;
  }
  if (last < text.length) frag.append(text.slice(last));
  return frag;
}
