// How the console writes times, durations, money and machine names.

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dateFmt = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short" });

/** "sensitive_topic" -> "Sensitive topic". */
export function humanize(s) {
  const t = String(s || "").replace(/_/g, " ").trim();
  return t ? t[0].toUpperCase() + t.slice(1) : "";
}

/** A waiting time: "42s", "3m 05s", "2h 10m", "3d". */
export function fmtWait(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
  const hours = Math.floor(m / 60);
  if (hours < 48) return `${hours}h ${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(hours / 24)}d`;
}

export function fmtAgo(ts) {
  const s = Math.max(0, Math.floor((Date.now() - ts) / 1000));
  if (s < 45) return "just now";
  if (s < 3600) return `${Math.max(1, Math.round(s / 60))}m ago`;
  if (s < 86400) return `${Math.round(s / 3600)}h ago`;
  return fmtDate(ts);
}

export const fmtTime = (ts) => timeFmt.format(new Date(ts));

export function fmtDate(ts) {
  const d = new Date(ts);
  if (d.toDateString() === new Date().toDateString()) return "Today";
  return dateFmt.format(d);
}

export function fmtMoney(cents, currency) {
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency: currency || "USD" }).format((cents || 0) / 100);
  } catch {
    return `${((cents || 0) / 100).toFixed(2)} ${currency || ""}`.trim();
  }
}

export const percent = (confidence) => `${Math.round(confidence * 100)}%`;

/** A share as a percentage with one decimal ("62.5%"); "–" when there is none (no denominator). */
export const fmtRate = (x) => (x == null ? "–" : `${(x * 100).toFixed(1)}%`);

/** A duration in seconds: "0.6s", "42s", "3m 05s", "2h 10m"; "–" when there is none. */
export function fmtSeconds(s) {
  if (s == null) return "–";
  if (s < 10) return `${(Math.round(s * 10) / 10).toFixed(1)}s`;
  return fmtWait(s * 1000);
}
