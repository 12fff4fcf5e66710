// Initials for avatars: "Riley Chen" -> "RC", "alex.morgan@example.com" -> "AM".

/**
 * The first letters of a name's first and last words. Notes in parentheses ("Sam (demo
 * admin)") and an email's domain are left out; letters are whole code points (emoji, accents).
 */
export function initials(name) {
  const words = String(name || "")
    .replace(/\(.*?\)/g, "")
    .replace(/@.*$/, "")
    .split(/[\s._-]+/)
    .filter(Boolean);
  const picked = words.length > 1 ? [words[0], words[words.length - 1]] : words;
  return picked.map((w) => Array.from(w)[0].toUpperCase()).join("") || "?";
}
