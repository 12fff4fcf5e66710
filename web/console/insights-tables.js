// Insights: how each intent fares (messages, fallbacks, fallback rate), sortable by volume or by
// fallback rate with buttons in the column headers (aria-sort says the order).

import { clear, h } from "../shared/dom.js";
import { fmtRate } from "./format.js";
import { intentLabel } from "./state.js";

const SORTABLE = {
  volume: { label: "Messages", words: "number of messages" },
  fallback_rate: { label: "Fallback rate", words: "fallback rate" },
};

let sort = { key: "volume", dir: "descending" }; // kept from one window to the next
let rows = [];
let table = null;

/** The intents table of a report's `intents`. */
export function intentTable(intents) {
  rows = intents;
  if (!rows.length) {
    table = null;
    return h("p", { class: "empty", text: "No shopper messages in this window." });
  }
  const header = (key, label, num = false) => {
    if (!SORTABLE[key]) return h("th", { scope: "col", class: num ? "num" : null, text: label });
    return h(
      "th",
      { scope: "col", class: "num", "data-sort": key },
      h(
        "button",
        { type: "button", class: "sort-btn", "data-sort": key, onclick: () => sortBy(key) },
        h("span", { text: label }),
        h("span", { class: "sort-arrow", "aria-hidden": "true" }),
      ),
    );
  };
  table = h(
    "table",
    { class: "figures intents", id: "intents-table" },
    h("caption", { class: "visually-hidden" }),
    h("thead", {}, h("tr", {}, header("intent", "Intent"), header("volume"), header("fallbacks", "Fallbacks", true), header("fallback_rate"))),
    h("tbody", {}),
  );
  for (const [key, { label }] of Object.entries(SORTABLE)) table.querySelector(`button[data-sort="${key}"] span`).textContent = label;
  render();
  return h(
    "div",
    {},
    table,
    h("p", { class: "muted small", text: "A fallback: the bot asked which question was meant, or handed over because it was unsure. – : no messages." }),
  );
}

/** A second press on the same column turns the order round; another column starts highest first. */
function sortBy(key) {
  sort = key === sort.key ? { key, dir: sort.dir === "descending" ? "ascending" : "descending" } : { key, dir: "descending" };
  render();
}

function compare(a, b) {
  const { key, dir } = sort;
  const [x, y] = [a[key], b[key]];
  // Intents without a rate go last whichever the order.
  if (x == null || y == null) return x == null && y == null ? 0 : x == null ? 1 : -1;
  const by = dir === "descending" ? y - x : x - y;
  return by || b.volume - a.volume || a.intent.localeCompare(b.intent);
}

function render() {
  if (!table) return;
  for (const th of table.querySelectorAll("th[data-sort]")) {
    const on = th.dataset.sort === sort.key;
    if (on) th.setAttribute("aria-sort", sort.dir);
    else th.removeAttribute("aria-sort");
    th.querySelector(".sort-arrow").textContent = on ? (sort.dir === "descending" ? "↓" : "↑") : "↕";
  }
  const highest = sort.dir === "descending" ? "highest first" : "lowest first";
  table.querySelector("caption").textContent = `Intents, by ${SORTABLE[sort.key].words}, ${highest}`;
  const body = clear(table.querySelector("tbody"));
  for (const r of [...rows].sort(compare)) {
    body.append(
      h(
        "tr",
        { "data-intent": r.intent },
        h("th", { scope: "row" }, h("span", { class: "intent-label", text: intentLabel(r.intent) }), h("span", { class: "mono small muted intent-name", text: r.intent })),
        h("td", { class: "num", text: r.volume.toLocaleString() }),
        h("td", { class: "num", text: r.fallbacks.toLocaleString() }),
        h(
          "td",
          { class: "num" },
          h("span", { class: "rate-cell" }, rateBar(r.fallback_rate), h("span", { text: fmtRate(r.fallback_rate) })),
        ),
      ),
    );
  }
}

/** A small bar beside a rate (set through the CSSOM: the page's CSP refuses style attributes). */
function rateBar(rate) {
  const fill = h("span", {});
  fill.style.width = `${Math.round((rate || 0) * 100)}%`;
  return h("span", { class: "rate-bar", "aria-hidden": "true" }, fill);
}
