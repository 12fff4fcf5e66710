// Small DOM and formatting helpers for the console. Text goes in as text nodes only.

export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v == null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "dateTime" || k === "title" || k === "href" || k === "value") el[k] = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export const $ = (sel) => document.querySelector(sel);

export function clear(el) {
  el.replaceChildren();
  return el;
}

export function initials(name) {
  const parts = String(name || "?")
    .replace(/\(.*?\)/g, "")
    .replace(/@.*$/, "")
    .split(/[\s._-]+/)
    .filter(Boolean);
  const letters = parts.length > 1 ? [parts[0], parts[parts.length - 1]] : parts.slice(0, 1);
  return letters.map((p) => Array.from(p)[0].toUpperCase()).join("") || "?";
}

export function humanize(s) {
  const t = String(s || "").replace(/_/g, " ").trim();
  return t ? t[0].toUpperCase() + t.slice(1) : "";
}

export function fmtWait(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
  const hh = Math.floor(m / 60);
  if (hh < 48) return `${hh}h ${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(hh / 24)}d`;
}

export function fmtAgo(ts) {
  const s = Math.max(0, Math.floor((Date.now() - ts) / 1000));
  if (s < 45) return "just now";
  if (s < 3600) return `${Math.max(1, Math.round(s / 60))}m ago`;
  if (s < 86400) return `${Math.round(s / 3600)}h ago`;
  return fmtDate(ts);
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dateFmt = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short" });
export const fmtTime = (ts) => timeFmt.format(new Date(ts));
export function fmtDate(ts) {
  const d = new Date(ts);
  const today = new Date();
  if (d.toDateString() === today.toDateString()) return "Today";
  return dateFmt.format(d);
}

export function fmtMoney(cents, currency) {
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency: currency || "USD" }).format((cents || 0) / 100);
  } catch {
    return `${((cents || 0) / 100).toFixed(2)} ${currency || ""}`.trim();
  }
}

/** An http(s) URL as a string, or null for anything else (javascript:, data:, junk). */
export function safeHttpUrl(s) {
  if (!s) return null;
  try {
    const u = new URL(s);
    return u.protocol === "https:" || u.protocol === "http:" ? u.href : null;
  } catch {
    return null;
  }
}

const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;
/** Text nodes with https links made clickable (for bot and agent messages). */
export function textWithLinks(text) {
  const out = [];
  let last = 0;
  for (const m of text.matchAll(URL_RE)) {
    let url = m[0].replace(/[.,;:!?)\]]+$/, "");
    const href = safeHttpUrl(url);
    if (!href) continue;
    if (m.index > last) out.push(document.createTextNode(text.slice(last, m.index)));
    out.push(h("a", { href, target: "_blank", rel: "noopener noreferrer", text: url }));
    last = m.index + url.length;
  }
  if (last < text.length) out.push(document.createTextNode(text.slice(last)));
  return out;
}

/** "state:queued:sensitive" -> "Handed to the queue: sensitive topic". */
export function eventText(text, reasons) {
  const [kind, state, ...rest] = String(text).split(":");
  const arg = rest.join(":");
  if (kind !== "state") return text;
  switch (state) {
    case "queued":
      if (arg === "released") return "Released back to the queue";
      return `Handed to a person · ${reasons[arg] || humanize(arg) || "queued"}`;
    case "assigned":
      return `${arg || "An agent"} joined the conversation`;
    case "resolved":
      return "Resolved · the shopper was asked for a rating";
    case "bot":
      return "Handed back to the bot";
    default:
      return humanize(`${state} ${arg}`);
  }
}
