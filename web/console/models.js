// Admin: the model versions, newest first, and what can be done with them: promote (with an
// override and a reason for one the gate rejected), roll back, run in shadow, read the report,
// retrain (retrain.js). Promote and roll back change every shopper's answers: both ask first.

import { clear, h } from "../shared/dom.js";
import { api } from "./api.js";
import { confirmAction, initConfirm } from "./confirm.js";
import { modelCard } from "./model-card.js";
import { $, toast } from "./page.js";
import { initRetrain, resumeRetrain } from "./retrain.js";
import { shadowPanel } from "./shadow.js";

let models = [];

export function initModels() {
  initConfirm();
  initRetrain(async (job) => {
    const made = () => models.find((m) => m.version === job.model_version) || null;
    await loadModels();
    if (!made() && job.model_version) await loadModels(); // a read started earlier was shown
    return made();
  });
  $("#rollback-btn").addEventListener("click", confirmRollback);
}

let reads = 0; // only the latest read is shown

export async function loadModels() {
  const read = ++reads;
  try {
    const list = await api("GET", "/api/v1/admin/models");
    if (read !== reads) return;
    models = list.models;
  } catch (e) {
    if (e.status !== 401) showError(e.message);
    return;
  }
  render();
  resumeRetrain();
}

const live = () => models.find((m) => m.status === "live") || null;
const path = (m, action = "") => `/api/v1/admin/models/${encodeURIComponent(m.version)}${action}`;

function render() {
  const now = live();
  // A live model that replaced another one has something to go back to.
  $("#rollback-btn").hidden = !(now && now.previous_live);
  const list = clear($("#models-list"));
  for (const m of models) list.append(modelCard(m, models, actionsOf(m), m.shadow ? shadowPanel(m, models) : null));
  if (!models.length) list.append(h("p", { class: "empty", text: "No model yet." }));
}

function actionsOf(m) {
  const out = [];
  if (m.status === "candidate" || m.status === "retired") {
    out.push(button("Promote…", "btn-primary", () => confirmPromote(m), "promote"));
  } else if (m.status === "rejected") {
    out.push(button("Promote anyway…", "btn-danger", () => confirmPromote(m, true), "promote"));
  }
  if (m.status !== "live") {
    out.push(
      m.shadow
        ? button("Stop shadow", "", () => setShadow(m, false), "shadow-stop")
        : button("Run in shadow", "", () => setShadow(m, true), "shadow-start"),
    );
  }
  if (m.number > 1) {
    out.push(
      h(
        "a",
        { class: "btn btn-ghost", href: path(m, "/report"), target: "_blank", rel: "noopener", "data-action": "report" },
        "Report",
        h("span", { class: "visually-hidden", text: " (opens in a new tab)" }),
        h("span", { "aria-hidden": "true", text: " ↗" }),
      ),
    );
  }
  return out;
}

function button(text, kind, onclick, action) {
  return h("button", { type: "button", class: `btn ${kind}`.trim(), text, onclick, "data-action": action });
}

function confirmPromote(m, override = false) {
  const now = live();
  const body = [
    h("p", {
      text: `From now on #${m.number} classifies every shopper message and decides what the bot answers.${now ? ` The live model #${now.number} is retired; you can roll back to it.` : ""}`,
    }),
  ];
  if (override) {
    body.push(
      h("p", { class: "gate-warning" }, h("strong", { text: "The gate rejected this model:" })),
      h("ul", { class: "gate-reasons" }, (m.gate?.reasons || []).map((r) => h("li", { text: r }))),
    );
  }
  confirmAction({
    title: override ? `Promote #${m.number} anyway?` : `Promote #${m.number}?`,
    body,
    confirm: override ? `Promote #${m.number} anyway` : `Promote #${m.number}`,
    danger: override,
    reason: override,
    run: async (reason) => {
      try {
        const res = await api("POST", path(m, "/promote"), override ? { override: true, reason } : undefined);
        toast(`Model #${res.number} is live.`, "ok");
        showError("");
      } finally {
        await loadModels();
      }
    },
    after: () => focusCard(m.version),
  });
}

function confirmRollback() {
  const now = live();
  if (!now) return;
  let back = null; // the model live again
  confirmAction({
    title: "Roll back?",
    body: h("p", {
      text: `#${now.number} stops classifying shopper messages; the model that was live before it takes over again at once, for every shopper.`,
    }),
    confirm: `Roll back from #${now.number}`,
    danger: true,
    run: async () => {
      try {
        back = await api("POST", "/api/v1/admin/models/rollback");
        const res = back;
        toast(`Rolled back: model #${res.number} is live again.`, "ok");
        showError("");
      } finally {
        await loadModels();
      }
    },
    after: () => back && focusCard(back.version),
  });
}

async function setShadow(m, on) {
  try {
    await api(on ? "POST" : "DELETE", path(m, "/shadow"));
    toast(on ? `#${m.number} runs in shadow: it reads live messages without answering.` : `#${m.number} no longer runs in shadow.`, "ok");
    showError("");
  } catch (e) {
    showError(e.message);
  }
  await loadModels();
  // The button changed (start <-> stop): keep the keyboard on it.
  const card = document.querySelector(`.model-card[data-version="${CSS.escape(m.version)}"]`);
  card?.querySelector('[data-action^="shadow"]')?.focus();
}

/** After a change re-renders the list, the keyboard goes back to the card it was on. */
function focusCard(version) {
  const card = document.querySelector(`.model-card[data-version="${CSS.escape(version)}"]`);
  if (!card) return;
  card.focus();
}

function showError(text) {
  const err = $("#models-error");
  err.textContent = text;
  err.hidden = !text;
}
