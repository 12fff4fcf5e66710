// How a model version is shown to admins: number, status, its four figures on the regression
// set beside the live model's at gate time, and the gate's verdict in words.

import { h } from "../shared/dom.js";
import { fmtAgo } from "./format.js";

const STATUS_WORDS = { live: "Live", candidate: "Candidate", rejected: "Rejected by the gate", retired: "Retired" };

/** The four figures: key, name, how they are written, the unit of a difference. */
const FIGURES = [
  ["macro_f1", "Macro-F1", (x) => x.toFixed(3), (d) => signed(d.toFixed(3))],
  ["oos_recall", "Out-of-scope recall", pct, (d) => `${signed((d * 100).toFixed(1))} pts`],
  ["answer_precision", "Answer precision", pct, (d) => `${signed((d * 100).toFixed(1))} pts`],
  ["coverage", "Coverage (answered by the bot)", pct, (d) => `${signed((d * 100).toFixed(1))} pts`],
];

export function pct(x) {
  return `${(x * 100).toFixed(1)}%`;
}

function signed(text) {
  if (/^-?0(\.0+)?$/.test(text)) return "±0";
  return text.startsWith("-") ? `−${text.slice(1)}` : `+${text}`;
}

/** "#3", or the version when the list does not have it. */
export function modelName(version, models) {
  const m = models.find((x) => x.version === version);
  return m ? `#${m.number}` : version;
}

/**
 * A model's card. `models`: the whole list (to name the live model a gate compared with);
 * `actions`: buttons and links for its footer; `extra`: e.g. the shadow comparison.
 */
export function modelCard(m, models, actions, extra = null) {
  const heading = `model-h-${m.number}`;
  return h(
    "article",
    { class: `model-card model-${m.status}${m.shadow ? " is-shadow" : ""}`, "data-version": m.version, "data-status": m.status, "aria-labelledby": heading, tabindex: "-1" },
    h(
      "header",
      { class: "model-head" },
      h(
        "h3",
        { id: heading },
        h("span", { class: "model-no", text: `#${m.number}` }),
        h("span", { class: `badge badge-${m.status}`, text: STATUS_WORDS[m.status] || m.status }),
        m.shadow ? h("span", { class: "badge badge-shadow", text: "In shadow" }) : null,
      ),
      h(
        "p",
        { class: "model-sub" },
        h("span", { class: "mono model-version", text: m.version }),
        h("span", { text: `Trained ${fmtAgo(m.created_at)} on ${m.examples.toLocaleString()} examples` }),
        m.status === "live" && m.promoted_at ? h("span", { text: `Live since ${fmtAgo(m.promoted_at)}` }) : null,
      ),
    ),
    figuresTable(m, models),
    verdict(m, models),
    actions.length ? h("div", { class: "model-actions" }, actions) : null,
    extra,
  );
}

function figuresTable(m, models) {
  const live = m.gate && m.gate.live_metrics;
  const liveName = live ? modelName(m.gate.live_version, models) : "";
  return h(
    "table",
    { class: "figures" },
    h("caption", { class: "visually-hidden", text: live ? `Figures of #${m.number} and of the live model ${liveName} on the regression set` : `Figures of #${m.number}` }),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", { scope: "col", text: "Figure" }),
        h("th", { scope: "col", class: "num", text: `#${m.number}` }),
        live ? h("th", { scope: "col", class: "num", text: `Live ${liveName} at gate time` }) : null,
        live ? h("th", { scope: "col", class: "num", text: "Change" }) : null,
      ),
    ),
    h(
      "tbody",
      {},
      FIGURES.map(([key, name, show, diff]) => {
        const mine = m.metrics[key];
        const theirs = live ? live[key] : null;
        const delta = theirs == null ? null : mine - theirs;
        return h(
          "tr",
          { "data-figure": key },
          h("th", { scope: "row", text: name }),
          h("td", { class: "num strong", text: show(mine) }),
          live ? h("td", { class: "num", text: theirs == null ? "–" : show(theirs) }) : null,
          live ? h("td", { class: `num delta ${delta > 1e-9 ? "delta-up" : delta < -1e-9 ? "delta-down" : ""}`, text: delta == null ? "–" : diff(delta) }) : null,
        );
      }),
    ),
  );
}

function verdict(m, models) {
  if (!m.gate) {
    const text =
      m.number === 1
        ? "The shipped model: these figures are cross-validated on the intents folder. No gate ran: there was nothing to compare it with."
        : "No gate verdict for this model.";
    return h("p", { class: "gate gate-none", text });
  }
  const against = m.gate.live_version ? ` against the live model ${modelName(m.gate.live_version, models)}` : "";
  if (m.gate.passed) {
    return h(
      "p",
      { class: "gate gate-passed" },
      h("strong", { text: "Gate passed" }),
      `${against}: macro-F1, the recall of each intent and of out-of-scope messages, and the precision of automatic answers held up on the regression set.`,
    );
  }
  return h(
    "div",
    { class: "gate gate-failed" },
    h("p", {}, h("strong", { text: "Gate failed" }), `${against}, because:`),
    h("ul", {}, (m.gate.reasons.length ? m.gate.reasons : ["no reason given"]).map((r) => h("li", { text: r }))),
  );
}
