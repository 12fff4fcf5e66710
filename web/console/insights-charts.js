// The Insights page's charts, drawn as SVG by hand: columns (counts or shares, with an
// optional reference marked on each), labelled horizontal bars, and lines of rates over days.
// Each chart is an image with a name for screen readers and a data table behind it: the
// chart is drawn `width` units wide, the width it is shown at, so its text keeps its size,
// and it still scales with its viewBox until it is drawn again.

import { h } from "../shared/dom.js";

const SVG_NS = "http://www.w3.org/2000/svg";
const FONT = 11; // px, the size of every label in a chart
const CHAR = 6.4; // the width of a label character, roughly, at that size

/** An SVG element; `attrs` are set as attributes, strings become text. */
function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) if (value != null && value !== false) el.setAttribute(key, String(value));
  for (const child of children.flat()) if (child != null && child !== false) el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return el;
}

const round = (x) => Math.round(x * 10) / 10;

function frame(width, height, label) {
  return s("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart-svg", role: "img", "aria-label": label, width, height });
}

/** The top of an axis and its step: 1, 2 or 5 times a power of ten, whole for counts. */
export function niceScale(max, { ticks = 4, whole = true } = {}) {
  if (!(max > 0)) return { top: whole ? ticks : 1, step: whole ? 1 : 0.25 };
  const raw = max / ticks;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 5, 10].map((m) => m * magnitude).find((x) => x >= raw - 1e-12);
  if (whole) step = Math.max(1, Math.round(step));
  return { top: Math.ceil(max / step - 1e-9) * step, step };
}

/** Horizontal grid lines with their values on the left. */
function yAxis(svg, { left, right, top, bottom, scale, format }) {
  const g = s("g", { class: "axis" });
  for (let v = 0; v <= scale.top + 1e-9; v += scale.step) {
    const y = round(bottom - ((bottom - top) * v) / scale.top);
    g.append(
      s("line", { x1: left, x2: right, y1: y, y2: y, class: v === 0 ? "baseline" : "grid" }),
      s("text", { x: left - 6, y: y + FONT / 3, "text-anchor": "end" }, format(v)),
    );
  }
  svg.append(g);
}

/** Labels under the plot, every `k`-th one when they would not fit side by side. */
function xLabels(svg, labels, xOf, y, longest) {
  const space = labels.length > 1 ? Math.abs(xOf(1) - xOf(0)) : Infinity;
  const k = Math.max(1, Math.ceil((longest * CHAR + 8) / space));
  const g = s("g", { class: "axis" });
  labels.forEach((label, i) => {
    // The last label is always shown; one too close to it before it is left out.
    const last = i === labels.length - 1;
    if (!last && (i % k !== 0 || (labels.length - 1 - i < k && i !== 0))) return;
    g.append(s("text", { x: round(xOf(i)), y, "text-anchor": "middle" }, label));
  });
  svg.append(g);
}

const longestOf = (labels) => Math.max(1, ...labels.map((l) => String(l).length));

/**
 * Columns, one per category: `values` (numbers), `marks` (optional reference values drawn as
 * a dark bar across each column), `rates` (values are shares, the axis is in percent),
 * `edges` (labels at the columns' edges instead of under them), `valueText` (the label above
 * a column, none by default).
 */
export function columnChart({ label, width, height = 210, categories, values, marks = null, rates = false, edges = null, valueText = null }) {
  const svg = frame(width, height, label);
  const format = rates ? (v) => `${Math.round(v * 100)}%` : (v) => String(v);
  const max = Math.max(0, ...values, ...(marks || []).filter((m) => m != null));
  const scale = rates ? niceScale(max || 1, { whole: false }) : niceScale(max);
  const left = 10 + longestOf([format(scale.top)]) * CHAR;
  const right = width - 6;
  const top = 18;
  const bottom = height - 24;
  yAxis(svg, { left, right, top, bottom, scale, format });
  const band = (right - left) / values.length;
  const yOf = (v) => bottom - ((bottom - top) * v) / scale.top;
  const bars = s("g", { class: "bars" });
  values.forEach((v, i) => {
    const x = left + band * i + band * 0.15;
    const w = band * 0.7;
    if (v > 0) bars.append(s("rect", { x: round(x), y: round(yOf(v)), width: round(w), height: round(bottom - yOf(v)), class: "bar", rx: 2 }));
    if (valueText && band >= 18) bars.append(s("text", { x: round(x + w / 2), y: round(yOf(v) - 4), "text-anchor": "middle", class: "bar-value" }, valueText(v)));
    const m = marks?.[i];
    if (m != null) bars.append(s("rect", { x: round(x - band * 0.08), y: round(yOf(m) - 1.5), width: round(w + band * 0.16), height: 3, class: "mark" }));
  });
  svg.append(bars);
  if (edges) xLabels(svg, edges, (i) => left + band * i, height - 8, longestOf(edges));
  else xLabels(svg, categories, (i) => left + band * (i + 0.5), height - 8, longestOf(categories));
  return svg;
}

/** Horizontal bars, each under its label with its value at the right: `items` [{label, value}]. */
export function barList({ label, width, items, valueText = String }) {
  const row = 40;
  const height = items.length * row + 4;
  const svg = frame(width, height, label);
  const max = Math.max(1, ...items.map((it) => it.value));
  const right = width - 2;
  items.forEach((it, i) => {
    const y = i * row + 14;
    const value = valueText(it.value);
    svg.append(
      s("text", { x: 0, y, class: "bar-label" }, it.label),
      s("text", { x: right, y, "text-anchor": "end", class: "bar-value" }, value),
      s("rect", { x: 0, y: y + 7, width: right, height: 10, rx: 3, class: "track" }),
      it.value > 0 ? s("rect", { x: 0, y: y + 7, width: round(Math.max(3, (right * it.value) / max)), height: 10, rx: 3, class: "bar" }) : null,
    );
  });
  return svg;
}

/**
 * Lines of rates (0–1) over `categories`, y from 0 to 100%; a null value leaves a gap.
 * `series`: [{values, className, marker: "circle" | "square"}].
 */
export function lineChart({ label, width, height = 230, categories, series }) {
  const svg = frame(width, height, label);
  const scale = { top: 1, step: 0.25 };
  const format = (v) => `${Math.round(v * 100)}%`;
  const left = 10 + 4 * CHAR;
  const right = width - 10;
  const top = 12;
  const bottom = height - 24;
  yAxis(svg, { left, right, top, bottom, scale, format });
  const n = categories.length;
  const step = n > 1 ? (right - left - 16) / (n - 1) : 0;
  const xOf = (i) => (n > 1 ? left + 8 + step * i : (left + right) / 2);
  const yOf = (v) => bottom - (bottom - top) * v;
  // The first series is drawn last, on top: its filled dots show inside the hollow squares.
  for (const line of [...series].reverse()) {
    const g = s("g", { class: `series ${line.className}` });
    let d = "";
    line.values.forEach((v, i) => {
      if (v == null) return;
      d += `${i > 0 && line.values[i - 1] != null ? "L" : "M"}${round(xOf(i))} ${round(yOf(v))}`;
    });
    if (d) g.append(s("path", { d, class: "line" }));
    line.values.forEach((v, i) => {
      // Markers when there is room, and always for a point with no neighbour to join.
      const alone = (i === 0 || line.values[i - 1] == null) && (i === n - 1 || line.values[i + 1] == null);
      if (v == null || (step < 12 && !alone)) return;
      const [x, y] = [round(xOf(i)), round(yOf(v))];
      g.append(line.marker === "square" ? s("rect", { x: x - 4.5, y: y - 4.5, width: 9, height: 9, class: "marker" }) : s("circle", { cx: x, cy: y, r: 3.5, class: "marker" }));
    });
    svg.append(g);
  }
  xLabels(svg, categories, xOf, height - 8, longestOf(categories));
  return svg;
}

/** A key to a chart's series: [{text, kind: "bar" | "mark" | a series' className, marker}]. */
export function legend(entries) {
  return h(
    "ul",
    { class: "legend" },
    entries.map((e) => {
      const swatch = s("svg", { viewBox: "0 0 28 12", width: 28, height: 12, "aria-hidden": "true", focusable: "false", class: `swatch ${e.kind}` });
      if (e.kind === "bar") swatch.append(s("rect", { x: 6, y: 1, width: 16, height: 10, rx: 2, class: "bar" }));
      else if (e.kind === "mark") swatch.append(s("rect", { x: 2, y: 4.5, width: 24, height: 3, class: "mark" }));
      else {
        swatch.append(s("path", { d: "M1 6H27", class: "line" }));
        swatch.append(e.marker === "square" ? s("rect", { x: 10.5, y: 2.5, width: 7, height: 7, class: "marker" }) : s("circle", { cx: 14, cy: 6, r: 4, class: "marker" }));
      }
      return h("li", { class: `legend-${e.kind}` }, swatch, h("span", { text: e.text }));
    }),
  );
}

/**
 * The data behind a chart, as a table under a "Show data" disclosure. `columns`: [{label, num}];
 * `rows`: arrays of cells (strings); `note`: a line under the table, e.g. what "–" means.
 */
export function dataTable({ caption, columns, rows, note = null }) {
  return h(
    "details",
    { class: "chart-data" },
    h("summary", {}, "Show data", h("span", { class: "visually-hidden", text: `: ${caption}` })),
    scrollable(
      caption,
      h(
        "table",
        { class: "figures data-table" },
        h("caption", { class: "visually-hidden", text: caption }),
        h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.num ? "num" : null, text: c.label })))),
        h(
          "tbody",
          {},
          rows.map((cells) => h("tr", {}, cells.map((text, i) => (i === 0 ? h("th", { scope: "row", text }) : h("td", { class: columns[i].num ? "num" : null, text }))))),
        ),
      ),
    ),
    note ? h("p", { class: "muted small", text: note }) : null,
  );
}

/**
 * A table that scrolls sideways by itself when the screen is too narrow for it, never the
 * page; it takes the keyboard so it can be scrolled without a mouse.
 */
export function scrollable(name, table) {
  return h("div", { class: "table-scroll", role: "region", "aria-label": name, tabindex: "0" }, table);
}

/** A chart with its heading, an optional key and note, and its data table. */
export function chartBlock({ id, title, chart, key = null, note = null, table }) {
  return h(
    "figure",
    { class: "chart", "data-chart": id, "aria-labelledby": `chart-${id}-h` },
    h("h3", { id: `chart-${id}-h`, class: "chart-title", text: title }),
    note ? h("p", { class: "muted small chart-note", text: note }) : null,
    chart,
    key,
    table,
  );
}
