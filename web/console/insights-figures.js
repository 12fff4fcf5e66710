// Insights: the headline figures of a window, and the same figures per model version side by
// side. A rate without a denominator is "–", with a line saying why.

import { h } from "../shared/dom.js";
import { fmtRate, fmtSeconds } from "./format.js";
import { scrollable } from "./insights-charts.js";

const count = (n) => Number(n || 0).toLocaleString();

/** Why a figure has no value, in the store owner's words. */
export const WHY_NONE = {
  conversations: "No conversations in this window",
  ratings: "No ratings in this window",
  botResolved: "The bot resolved no conversations in this window",
  handoffs: "No hand-offs in this window",
  replies: "No agent replies in this window",
  resolutions: "No resolved conversations in this window",
  messages: "No shopper messages in this window",
};

/** One headline figure: its name, its value (`figure` names it for tests), and a detail line. */
function kpi(key, name, value, detail, none = null) {
  return h(
    "div",
    { class: `kpi${none ? " is-none" : ""}`, "data-kpi": key },
    h("dt", { class: "kpi-name", text: name }),
    h("dd", { class: "kpi-value" }, value),
    h("dd", { class: "kpi-detail" }, none ? h("span", { class: "kpi-why", text: none }) : detail),
  );
}

/** A value for tests to find by `data-figure`. */
const fig = (key, text, tag = "span") => h(tag, { "data-figure": key, text });

/** The headline figures of a report: a list of name / value / detail. */
export function headline(r) {
  const noConv = r.conversations === 0 ? WHY_NONE.conversations : null;
  const auto = r.automation_rate || {};
  const csat = r.csat || {};
  const cha = r.could_have_answered || {};
  const reply = r.first_agent_reply_seconds || {};
  const res = r.resolution_seconds || {};
  return h(
    "dl",
    { class: "kpis" },
    kpi("conversations", "Conversations", fig("conversations", count(r.conversations)), [fig("messages", count(r.messages)), ` shopper ${r.messages === 1 ? "message" : "messages"} the bot read`]),
    kpi(
      "automation",
      "Automation rate",
      fig("automation_rate", fmtRate(auto.rate)),
      ["Confirmed ", fig("automation_confirmed", fmtRate(auto.confirmed), "strong"), " · assumed ", fig("automation_assumed", fmtRate(auto.assumed), "strong")],
      noConv,
    ),
    kpi("handoff", "Hand-off rate", fig("handoff_rate", fmtRate(r.handoff_rate)), [fig("handoffs", count(r.handoffs)), r.handoffs === 1 ? " hand-off" : " hand-offs"], noConv),
    kpi(
      "csat",
      "Satisfied shoppers (CSAT)",
      fig("csat_rate", fmtRate(csat.rate)),
      ["Rated 4 or 5 stars, of ", fig("csat_ratings", count(csat.ratings)), csat.ratings === 1 ? " rating" : " ratings", csat.average != null ? ` · average ${csat.average.toFixed(1)} of 5` : ""],
      csat.ratings ? null : WHY_NONE.ratings,
    ),
    kpi(
      "recontact",
      "Came back within 24 h",
      fig("recontact_rate", fmtRate(r.recontact_rate_24h)),
      "Re-contacts, of the conversations the bot resolved",
      r.recontact_rate_24h == null ? WHY_NONE.botResolved : null,
    ),
    kpi(
      "could-have-answered",
      "The bot could have answered",
      fig("could_have_answered", count(cha.handoffs)),
      [fig("could_have_answered_rate", fmtRate(cha.rate), "strong"), " of hand-offs, as agents marked them"],
      r.handoffs ? null : WHY_NONE.handoffs,
    ),
    kpi(
      "first-reply",
      "First agent reply",
      spreadValue("first_reply", reply),
      [fig("first_reply_count", count(reply.count)), ` ${reply.count === 1 ? "hand-off" : "hand-offs"} answered`],
      reply.count ? null : WHY_NONE.replies,
    ),
    kpi(
      "resolution",
      "Time to resolution",
      spreadValue("resolution", res),
      [fig("resolution_count", count(res.count)), ` ${res.count === 1 ? "conversation" : "conversations"} resolved`],
      res.count ? null : WHY_NONE.resolutions,
    ),
  );
}

/** "0.6s median", and under it "0.8s for 9 in 10 (p90)". */
function spreadValue(key, spread) {
  if (spread.median == null) return fig(`${key}_median`, "–");
  return [
    h("span", { class: "kpi-first" }, fig(`${key}_median`, fmtSeconds(spread.median)), h("span", { class: "kpi-unit", text: " median" })),
    h("span", { class: "kpi-second" }, fig(`${key}_p90`, fmtSeconds(spread.p90)), h("span", { class: "kpi-unit", text: " for 9 in 10 (p90)" })),
  ];
}

/** The rows of the per-version table: name, how each group's value is written. */
const VERSION_ROWS = [
  ["Conversations", (g) => count(g.conversations)],
  ["Automation rate", (g) => fmtRate(g.automation_rate?.rate)],
  ["· confirmed by the shopper", (g) => fmtRate(g.automation_rate?.confirmed)],
  ["· assumed (no reply)", (g) => fmtRate(g.automation_rate?.assumed)],
  ["Hand-off rate", (g) => fmtRate(g.handoff_rate)],
  ["Hand-offs", (g) => count(g.handoffs)],
  ["The bot could have answered", (g) => count(g.could_have_answered?.handoffs)],
  ["CSAT (rated 4 or 5)", (g) => fmtRate(g.csat?.rate)],
  ["Ratings", (g) => count(g.csat?.ratings)],
  ["Came back within 24 h", (g) => fmtRate(g.recontact_rate_24h)],
  ["Shopper messages", (g) => count(g.messages)],
  ["Fallback rate", (g) => fmtRate(g.fallback_rate)],
  ["First agent reply, median", (g) => fmtSeconds(g.first_agent_reply_seconds?.median)],
  ["Time to resolution, median", (g) => fmtSeconds(g.resolution_seconds?.median)],
];

/**
 * The figures of each model version side by side. `models`: the admin's list of versions, to
 * name them "#3" and mark the live one (a version it does not have keeps its name).
 */
export function versionsTable(groups, models) {
  if (!groups.length) return h("p", { class: "empty", text: "No conversations or messages in this window." });
  const names = groups.map((g) => versionName(g.key, models));
  return h(
    "div",
    { class: "versions-wrap" },
    scrollable(
      "Figures per model version",
      h(
      "table",
      { class: "figures versions", id: "versions-table" },
      h("caption", { class: "visually-hidden", text: "Figures per model version" }),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", { scope: "col", text: "Figure" }),
          names.map((n, i) => h("th", { scope: "col", class: "num", "data-version": groups[i].key, title: groups[i].key }, n.name, n.live ? h("span", { class: "badge badge-live", text: "Live" }) : null)),
        ),
      ),
      h("tbody", {}, VERSION_ROWS.map(([name, value]) => h("tr", {}, h("th", { scope: "row", text: name }), groups.map((g) => h("td", { class: "num", text: value(g) }))))),
      ),
    ),
    h("p", { class: "muted small", text: "A conversation counts for the version that read its first message. – : nothing to divide by." }),
  );
}

function versionName(key, models) {
  if (key === "(none)") return { name: "No model", live: false };
  const m = models.find((x) => x.version === key);
  return m ? { name: `#${m.number}`, live: m.status === "live" } : { name: key, live: false };
}
