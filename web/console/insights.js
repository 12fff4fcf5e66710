// Insights, for admins (#/insights): how support went in a window of time. The window comes
// from the address (#/insights/30d, #/insights/2026-11-01/2026-11-30: UTC days, both included),
// so Back and bookmarks work; the page reads GET /api/v1/admin/metrics by day and by model
// version, and shows the server's word when it refuses a window.

import { clear, h } from "../shared/dom.js";
import { api } from "./api.js";
import { headline, versionsTable } from "./insights-figures.js";
import { dayChart, driftChart, ratingsChart, reasonsChart, replyTimesChart } from "./insights-sections.js";
import { intentTable } from "./insights-tables.js";
import { $ } from "./page.js";

const DAY_MS = 86_400_000;
const PRESETS = { "7d": 7, "30d": 30, "90d": 90 };
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const whenFmt = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" });
const dateFmt = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });

let shown = null; // {window, days, versions, models}: the report on the page
let drawnWidth = 0; // the width the charts were drawn at
let reads = 0; // only the latest read is shown

export function initInsights() {
  $("#ins-range").addEventListener("submit", pickDates);
  // The window already shown, picked again: read it again (the address does not change).
  for (const link of document.querySelectorAll("#ins-presets a")) {
    link.addEventListener("click", (e) => {
      if (link.hash === location.hash) {
        e.preventDefault();
        showInsights([link.dataset.window]);
      }
    });
  }
  new ResizeObserver(() => {
    const width = $("#ins-days").clientWidth;
    if (shown && width && Math.abs(width - drawnWidth) > 16) drawCharts();
  }).observe($("#insights-view"));
}

/** The window of an address's parts after "insights": a preset, or two dates. */
function windowOf(parts) {
  if (parts.length >= 2 && parts[0] && parts[1]) return { from: decoded(parts[0]), to: decoded(parts[1]) };
  const preset = PRESETS[parts[0]] ? parts[0] : "7d";
  return { preset, days: PRESETS[preset] };
}

function decoded(part) {
  try {
    return decodeURIComponent(part);
  } catch {
    return part; // the server says what is wrong with it
  }
}

/** The query for a window: a preset ends now; dates are whole UTC days, `to` included. */
function queryOf(w) {
  if (w.preset) {
    const to = Date.now();
    return { from: new Date(to - w.days * DAY_MS).toISOString(), to: new Date(to).toISOString() };
  }
  return { from: w.from, to: DATE.test(w.to) ? dayAfter(w.to) : w.to };
}

function dayAfter(date) {
  const t = Date.parse(`${date}T00:00:00Z`);
  return Number.isNaN(t) ? date : new Date(t + DAY_MS).toISOString().slice(0, 10);
}

const utcDate = (ms) => new Date(ms).toISOString().slice(0, 10);

/** Shows the window named by the address (`parts`: what follows #/insights/). */
export async function showInsights(parts = []) {
  const w = windowOf(parts);
  markPreset(w);
  // Days from the address are in the fields at once, to be corrected if the server refuses them.
  if (!w.preset) for (const [id, day] of [["#ins-from", w.from], ["#ins-to", w.to]]) $(id).value = DATE.test(day) ? day : "";
  const q = queryOf(w);
  const read = ++reads;
  const view = $("#insights-view");
  view.setAttribute("aria-busy", "true");
  showError("");
  $("#ins-window").textContent = "Loading…";
  const path = (by) => `/api/v1/admin/metrics?${new URLSearchParams({ ...q, by })}`;
  try {
    const [days, versions, models] = await Promise.all([
      api("GET", path("day")),
      api("GET", path("model_version")),
      api("GET", "/api/v1/admin/models").then((r) => r.models, () => []), // names only
    ]);
    if (read !== reads) return;
    shown = { window: w, days, versions, models };
    render();
  } catch (e) {
    if (read !== reads) return;
    shown = null;
    $("#ins-window").textContent = "";
    $("#ins-body").hidden = true;
    if (e.status === 400) showError(`The server did not accept this window: ${e.message}`);
    else if (e.status === 403) showError("Only admins can see insights.");
    else if (e.status !== 401) showError(e.message);
  } finally {
    if (read === reads) view.removeAttribute("aria-busy");
  }
}

function markPreset(w) {
  for (const link of document.querySelectorAll("#ins-presets a")) {
    if (link.dataset.window === w.preset) link.setAttribute("aria-current", "true");
    else link.removeAttribute("aria-current");
  }
}

function render() {
  const { window: w, days, versions, models } = shown;
  const from = Date.parse(days.from);
  const to = Date.parse(days.to);
  $("#ins-window").textContent = w.preset
    ? `Last ${w.days} days: ${whenFmt.format(from)} to ${whenFmt.format(to)}`
    : `${dateFmt.format(from)} to ${dateFmt.format(to - 1)} (UTC days)`;
  $("#ins-from").value = utcDate(from);
  $("#ins-to").value = utcDate(Math.max(from, to - 1));
  $("#ins-body").hidden = false;
  clear($("#ins-kpis")).append(headline(days));
  clear($("#ins-intents")).append(intentTable(days.intents || []));
  clear($("#ins-versions")).append(versionsTable(versions.groups || [], models));
  drawCharts();
}

/** Draws the charts at the width they are shown at, keeping open data tables open. */
function drawCharts() {
  const { days, models } = shown;
  const open = new Set([...document.querySelectorAll("#insights-view .chart")].filter((c) => c.querySelector("details[open]")).map((c) => c.dataset.chart));
  const into = (container, ...builders) => {
    const slots = builders.map(() => h("div", { class: "chart-slot" }));
    clear(container).append(...slots);
    // Measured once every slot is in place, so a grid has its columns.
    const widths = slots.map((slot) => slot.clientWidth || 600);
    slots.forEach((slot, i) => slot.append(builders[i](widths[i])));
  };
  into($("#ins-days"), (width) => dayChart(days.groups || [], width));
  into(
    $("#ins-handoffs"),
    (width) => reasonsChart(days.handoffs_by_reason, width),
    (width) => replyTimesChart(days.first_agent_reply_distribution, width),
    (width) => ratingsChart(days.csat, width),
  );
  const live = models.find((m) => m.version === days.drift?.model_version);
  into($("#ins-drift"), (width) => driftChart(days.drift, width, live ? `#${live.number}` : null));
  for (const id of open) document.querySelector(`#insights-view .chart[data-chart="${id}"] details`)?.setAttribute("open", "");
  drawnWidth = $("#ins-days").clientWidth;
}

function pickDates(e) {
  e.preventDefault();
  const from = $("#ins-from").value;
  const to = $("#ins-to").value;
  if (!from || !to) return showError("Choose a first and a last day.", $(from ? "#ins-to" : "#ins-from"));
  if (from > to) return showError("The first day is after the last day.", $("#ins-from"));
  const hash = `#/insights/${from}/${to}`;
  if (location.hash === hash) showInsights([from, to]);
  else location.hash = hash;
}

/** An error above the figures; `field` is marked invalid and gets the keyboard. */
function showError(text, field = null) {
  const err = $("#ins-error");
  err.textContent = text;
  err.hidden = !text;
  for (const input of [$("#ins-from"), $("#ins-to")]) input.removeAttribute("aria-invalid");
  if (field) {
    field.setAttribute("aria-invalid", "true");
    field.focus();
  }
}
