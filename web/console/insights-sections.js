// Insights: the charts of a report, each with its data table: rates by day, hand-offs by
// reason, first-reply times, ratings, and the model's confidence against its training
// reference with the two drift scores (PSI) in words as well as colour.

import { h } from "../shared/dom.js";
import { barList, chartBlock, columnChart, dataTable, legend, lineChart } from "./insights-charts.js";
import { fmtRate, humanize } from "./format.js";
import { reasonLabel } from "./wording.js";

const dayFmt = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", timeZone: "UTC" });
const dayLongFmt = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" });
const dayOf = (key) => new Date(`${key}T00:00:00Z`);
const share = (part, whole) => (whole ? fmtRate(part / whole) : "–");
const total = (xs) => xs.reduce((a, b) => a + b, 0);

/** Automation and hand-off rates for each UTC day of the window (`groups` of by=day). */
export function dayChart(groups, width) {
  const series = [
    { name: "Automation rate", values: groups.map((g) => g.automation_rate?.rate ?? null), className: "s-automation", marker: "circle" },
    { name: "Hand-off rate", values: groups.map((g) => g.handoff_rate ?? null), className: "s-handoff", marker: "square" },
  ];
  const busy = groups.filter((g) => g.conversations > 0).length;
  const span = groups.length ? `${dayFmt.format(dayOf(groups[0].key))} to ${dayFmt.format(dayOf(groups[groups.length - 1].key))}` : "";
  const label = `Line chart: automation rate and hand-off rate on each of ${groups.length} days, ${span}; ${busy} ${busy === 1 ? "day has" : "days have"} conversations. The figures are in the data table.`;
  return chartBlock({
    id: "days",
    title: "Automation and hand-offs by day",
    note: busy ? "UTC days. A gap in a line: no conversations that day." : "No conversations in this window.",
    chart: lineChart({ label, width, categories: groups.map((g) => dayFmt.format(dayOf(g.key))), series }),
    key: legend(series.map((s) => ({ text: s.name, kind: s.className, marker: s.marker }))),
    table: dataTable({
      caption: "Automation and hand-off rates by day",
      columns: [{ label: "Day (UTC)" }, { label: "Conversations", num: true }, { label: "Automation", num: true }, { label: "Confirmed", num: true }, { label: "Assumed", num: true }, { label: "Hand-off rate", num: true }],
      rows: groups.map((g) => [
        dayLongFmt.format(dayOf(g.key)),
        g.conversations.toLocaleString(),
        fmtRate(g.automation_rate?.rate),
        fmtRate(g.automation_rate?.confirmed),
        fmtRate(g.automation_rate?.assumed),
        fmtRate(g.handoff_rate),
      ]),
      note: "– : no conversations that day.",
    }),
  });
}

/** Hand-offs by reason, most frequent first. */
export function reasonsChart(byReason, width) {
  const items = Object.entries(byReason || {})
    .map(([reason, value]) => ({ label: reasonLabel(reason), value }))
    .sort((a, b) => b.value - a.value || a.label.localeCompare(b.label));
  const all = total(items.map((i) => i.value));
  const label = `Bar chart: hand-offs by reason. ${items.map((i) => `${i.label}: ${i.value}`).join("; ")}.`;
  return chartBlock({
    id: "reasons",
    title: "Hand-offs by reason",
    note: all ? null : "No hand-offs in this window.",
    chart: barList({ label, width, items }),
    table: dataTable({
      caption: "Hand-offs by reason",
      columns: [{ label: "Reason" }, { label: "Hand-offs", num: true }, { label: "Share", num: true }],
      rows: items.map((i) => [i.label, i.value.toLocaleString(), share(i.value, all)]),
    }),
  });
}

/** "30 s", "2 min", "4 h". */
function bound(seconds) {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${seconds / 60} min`;
  return `${seconds / 3600} h`;
}

/** How long shoppers waited for an agent's first reply, in bins (`first_agent_reply_distribution`). */
export function replyTimesChart(bins, width) {
  bins = bins || [];
  const short = bins.map((b) => (b.le_seconds == null ? `>${bound(bins[bins.length - 2]?.le_seconds ?? 0)}` : bound(b.le_seconds)).replace(/ /g, ""));
  const words = bins.map((b, i) => {
    if (b.le_seconds == null) return `More than ${bound(bins[i - 1]?.le_seconds ?? 0)}`;
    return i === 0 ? `Within ${bound(b.le_seconds)}` : `${bound(bins[i - 1].le_seconds)} to ${bound(b.le_seconds)}`;
  });
  const values = bins.map((b) => b.handoffs);
  const all = total(values);
  const label = `Column chart: time to the first agent reply. ${words.map((w, i) => `${w}: ${values[i]}`).join("; ")}.`;
  return chartBlock({
    id: "reply-times",
    title: "Time to the first agent reply",
    note: all ? "Hand-offs answered within each time (after the column before)." : "No agent replies in this window.",
    chart: columnChart({ label, width, categories: short, values, valueText: (v) => (v ? String(v) : "") }),
    table: dataTable({
      caption: "Time to the first agent reply",
      columns: [{ label: "First reply" }, { label: "Hand-offs", num: true }, { label: "Share", num: true }],
      rows: words.map((w, i) => [w, values[i].toLocaleString(), share(values[i], all)]),
    }),
  });
}

/** How shoppers rated conversations, 1 to 5 stars (`csat.by_score`). */
export function ratingsChart(csat, width) {
  const values = csat?.by_score || [0, 0, 0, 0, 0];
  const names = values.map((_, i) => `${i + 1} ${i ? "stars" : "star"}`);
  const all = total(values);
  const label = `Column chart: ratings by stars. ${names.map((n, i) => `${n}: ${values[i]}`).join("; ")}.`;
  return chartBlock({
    id: "ratings",
    title: "Ratings",
    note: all ? `${fmtRate(csat.rate)} rated 4 or 5 stars.` : "No ratings in this window.",
    chart: columnChart({ label, width, categories: names, values, valueText: (v) => (v ? String(v) : "") }),
    table: dataTable({
      caption: "Ratings by stars",
      columns: [{ label: "Stars" }, { label: "Ratings", num: true }, { label: "Share", num: true }],
      rows: names.map((n, i) => [n, values[i].toLocaleString(), share(values[i], all)]),
    }),
  });
}

const LEVELS = {
  stable: { words: "Stable", icon: "✓" },
  moderate: { words: "Moderate shift", icon: "!" },
  drift: { words: "Drift", icon: "▲" },
};

/** A drift score: its level in words, with an icon and a colour, and the PSI. */
function psiBadge(key, name, psi) {
  if (!psi) {
    return h(
      "div",
      { class: "psi psi-none", "data-psi": key },
      h("span", { class: "psi-name", text: name }),
      h("span", { class: "psi-level", text: "–" }),
      h("span", { class: "psi-value", text: "Not measured" }),
    );
  }
  const level = LEVELS[psi.level] || { words: humanize(psi.level), icon: "?" };
  return h(
    "div",
    { class: `psi psi-${psi.level}`, "data-psi": key, "data-level": psi.level },
    h("span", { class: "psi-name", text: name }),
    h("span", { class: "psi-level" }, h("span", { class: "psi-icon", "aria-hidden": "true", text: level.icon }), h("span", { text: level.words })),
    h("span", { class: "psi-value", text: `PSI ${psi.psi.toFixed(3)}` }),
  );
}

/** The live traffic's confidence against the live model's training reference, and the PSIs. */
export function driftChart(drift, width, modelName) {
  const bins = drift?.confidence_histogram || [];
  const edges = [...bins.map((b) => String(b.from)), "1"];
  const values = bins.map((b) => b.share ?? 0);
  const hasReference = bins.some((b) => b.reference != null);
  const marks = hasReference ? bins.map((b) => b.reference) : null;
  const range = (b) => `${b.from.toFixed(1)} to ${b.to.toFixed(1)}`;
  const label = `Column chart: the share of live messages in each confidence bin${hasReference ? ", with the training reference marked" : ""}. ${bins
    .map((b) => `${range(b)}: ${fmtRate(b.share)}${hasReference ? ` (reference ${fmtRate(b.reference)})` : ""}`)
    .join("; ")}.`;
  const note = drift?.note ? `${humanize(drift.note)}.` : null;
  return h(
    "div",
    { class: "drift" },
    h(
      "div",
      { class: "psis" },
      psiBadge("confidence", "Confidence", drift?.confidence),
      psiBadge("intent_mix", "Intent mix", drift?.intent_mix),
    ),
    h("p", {
      class: "muted small",
      text: `The population stability index (PSI) compares this window's shopper messages with the examples ${modelName ? `model ${modelName}` : "the live model"} was checked on: up to 0.1 is stable, above 0.1 a moderate shift, above 0.25 drift: time to label messages and retrain.`,
    }),
    note ? h("p", { class: "drift-note", text: note }) : null,
    chartBlock({
      id: "confidence",
      title: "Model confidence",
      chart: columnChart({ label, width, categories: bins.map(range), values, marks, rates: true, edges }),
      key: legend([{ text: "Live messages in this window", kind: "bar" }, ...(hasReference ? [{ text: "Training reference", kind: "mark" }] : [])]),
      table: dataTable({
        caption: "Model confidence: live messages and the training reference",
        columns: [{ label: "Confidence" }, { label: "Messages", num: true }, { label: "Share", num: true }, { label: "Reference", num: true }],
        rows: bins.map((b) => [range(b), b.messages.toLocaleString(), fmtRate(b.share), fmtRate(b.reference)]),
        note: "– : no messages in this window, or no reference.",
      }),
    }),
  );
}
