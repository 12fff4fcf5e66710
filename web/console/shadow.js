// A model in shadow classifies live shopper messages beside the live model without answering
// anyone: how often the two agree, and the messages where they differ.

import { clear, h } from "../shared/dom.js";
import { api } from "./api.js";
import { fmtAgo, percent } from "./format.js";
import { modelName } from "./model-card.js";
import { intentLabel } from "./state.js";

const DECISIONS = {
  answer: "answers",
  clarify: "asks to clarify",
  handoff: "hands to a person",
  out_of_scope: "turns it away",
  none: "no decision",
};

/** The comparison panel of model `m` (in shadow); reads it at once and on Refresh. */
export function shadowPanel(m, models) {
  const id = `shadow-h-${m.number}`;
  const body = h("div", { class: "shadow-body" }, h("p", { class: "muted", text: "Reading the comparison…" }));
  const status = h("p", { class: "visually-hidden", role: "status" });
  const refresh = h("button", { type: "button", class: "btn btn-sm shadow-refresh", text: "Refresh", onclick: () => load(true) });
  const panel = h(
    "section",
    { class: "shadow", "aria-labelledby": id },
    h("div", { class: "shadow-head" }, h("h4", { id, text: "Shadow comparison with the live model" }), refresh),
    body,
    status,
  );

  // Refresh tells screen readers the new rate; the first reading stays quiet.
  async function load(announce = false) {
    refresh.disabled = true;
    try {
      const report = await api("GET", `/api/v1/admin/models/${encodeURIComponent(m.version)}/shadow`);
      const shown = render(report, models);
      clear(body).append(...shown);
      if (announce) status.textContent = shown[0].textContent;
    } catch (e) {
      clear(body).append(h("p", { class: "form-error", text: e.message }));
    } finally {
      refresh.disabled = false;
    }
  }
  load();
  return panel;
}

function render(report, models) {
  if (!report.compared) {
    return [h("p", { class: "shadow-rate", text: "No live message compared yet: the comparison starts with the next shopper message." })];
  }
  const rate = report.agreement == null ? "–" : `${(report.agreement * 100).toFixed(1)}%`;
  const out = [
    h(
      "p",
      { class: "shadow-rate" },
      h("strong", { class: "rate", text: rate }),
      ` agreement: ${report.agreed} of ${report.compared} live ${report.compared === 1 ? "message" : "messages"} got the same intent and decision.`,
    ),
  ];
  if (!report.differences.length) return out;
  out.push(
    h("p", { class: "small muted", text: "Latest messages where they differ:" }),
    h("ul", { class: "diffs" }, report.differences.map((d) => difference(d, models))),
  );
  return out;
}

function difference(d, models) {
  return h(
    "li",
    { class: "diff", "data-message": d.message_id },
    h("div", { class: "diff-text", dir: "auto", text: d.text }),
    h(
      "dl",
      { class: "diff-guesses" },
      h("dt", { text: `Live ${modelName(d.live_version, models)}` }),
      h("dd", { text: guess(d.live) }),
      h("dt", { text: "In shadow" }),
      h("dd", { text: guess(d.shadow) }),
    ),
    h(
      "div",
      { class: "diff-foot small muted" },
      h("span", { text: fmtAgo(d.created_at) }),
      h("a", { href: `#/inbox/${encodeURIComponent(d.conversation_id)}`, text: "Open conversation" }),
    ),
  );
}

function guess(g) {
  return `${intentLabel(g.intent)} (${percent(g.confidence)}), ${DECISIONS[g.decision] || g.decision}`;
}
