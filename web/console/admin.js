// Admin page: reviewing the labels agents gave shopper messages (training examples), managing agents.

import { clear, h } from "../shared/dom.js";
import { api } from "./api.js";
import { fmtAgo, humanize } from "./format.js";
import { $, toast } from "./page.js";
import { intentLabel, isMe, learnAgentNames } from "./state.js";

let status = "pending"; // the examples shown: "pending" | "approved" | "rejected"
let agents = [];

export function initAdmin() {
  for (const b of document.querySelectorAll(".seg-btn")) {
    b.addEventListener("click", () => {
      status = b.dataset.status;
      for (const x of document.querySelectorAll(".seg-btn")) x.setAttribute("aria-selected", String(x === b));
      loadExamples();
    });
  }
  $("#agent-form").addEventListener("submit", addAgent);
}

export function showAdmin() {
  loadExamples();
  loadAgents();
}

async function loadExamples() {
  const body = $("#examples-body");
  try {
    const { training_examples: list } = await api("GET", `/api/v1/admin/training-examples?status=${status}`);
    clear(body);
    for (const ex of list) body.append(exampleRow(ex));
    const empty = $("#examples-empty");
    empty.hidden = list.length > 0;
    $("#examples-table").hidden = !list.length;
    clear(empty).append(h("p", { class: "empty-title", text: status === "pending" ? "Nothing to review" : `No ${status} examples` }), status === "pending" ? h("p", { class: "muted", text: "When agents label shopper messages, the labels wait here for your review." }) : null);
  } catch (e) {
    if (e.status !== 401) toast(e.message, "error");
  }
}

function exampleRow(ex) {
  const review = h("td", { class: "right actions" });
  if (ex.status === "pending") {
    review.append(
      h("button", { type: "button", class: "btn btn-success btn-sm", text: "Approve", onclick: () => decide(ex, "approve") }),
      h("button", { type: "button", class: "btn btn-sm", text: "Reject", onclick: () => decide(ex, "reject") }),
    );
  } else {
    review.append(h("span", { class: `chip ${ex.status === "approved" ? "chip-verified" : "chip-guest"}`, text: humanize(ex.status) }));
  }
  const who = isMe(ex.agent_id) ? "you" : agents.find((a) => a.id === ex.agent_id)?.name || "an agent";
  return h(
    "tr",
    { "data-example": ex.id },
    h("td", { class: "ex-text", dir: "auto", text: ex.text }),
    h("td", {}, h("div", { class: "ex-intent", text: intentLabel(ex.intent) }), h("div", { class: "mono small muted", text: ex.intent })),
    h("td", { class: "small" }, h("div", { text: `${fmtAgo(ex.created_at)} by ${who}` }), h("a", { href: `#/inbox/${encodeURIComponent(ex.conversation_id)}`, class: "small", text: "Open conversation" })),
    review,
  );
}

async function decide(ex, action) {
  try {
    await api("POST", `/api/v1/admin/training-examples/${encodeURIComponent(ex.id)}/${action}`);
    toast(action === "approve" ? `Approved as “${intentLabel(ex.intent)}”.` : "Rejected.", "ok");
  } catch (e) {
    toast(e.message, "error");
  }
  loadExamples();
}

async function loadAgents() {
  try {
    ({ agents } = await api("GET", "/api/v1/admin/agents"));
    learnAgentNames(agents);
    const body = clear($("#agents-body"));
    for (const a of agents) body.append(agentRow(a));
  } catch (e) {
    if (e.status !== 401) toast(e.message, "error");
  }
}

function agentRow(a) {
  const self = isMe(a.id);
  return h(
    "tr",
    { "data-agent": a.id, class: a.disabled ? "is-disabled" : "" },
    h("td", {}, h("span", { text: a.name }), self ? h("span", { class: "muted", text: " (you)" }) : null),
    h("td", { text: a.email }),
    h("td", {}, h("span", { class: `chip ${a.is_admin ? "chip-admin" : ""}`, text: a.is_admin ? "Admin" : "Agent" })),
    h("td", {}, h("span", { class: `chip ${a.disabled ? "chip-guest" : "chip-verified"}`, text: a.disabled ? "Disabled" : "Active" })),
    h(
      "td",
      { class: "right" },
      a.disabled || self ? null : h("button", { type: "button", class: "btn btn-danger btn-sm", text: "Disable", onclick: (e) => disableAgent(a, e.currentTarget) }),
    ),
  );
}

async function disableAgent(a, button) {
  // Two clicks instead of a confirm() dialog.
  if (button.dataset.armed !== "1") {
    button.dataset.armed = "1";
    button.textContent = "Click again to disable";
    setTimeout(() => {
      if (button.isConnected) {
        button.dataset.armed = "";
        button.textContent = "Disable";
      }
    }, 4000);
    return;
  }
  try {
    await api("POST", `/api/v1/admin/agents/${encodeURIComponent(a.id)}/disable`);
    toast(`${a.name} is disabled and logged out everywhere.`, "ok");
  } catch (e) {
    toast(e.message, "error");
  }
  loadAgents();
}

async function addAgent(e) {
  e.preventDefault();
  const form = e.currentTarget;
  const err = $("#agent-form-error");
  const out = $("#new-password");
  const name = form.elements.name.value.trim();
  const email = form.elements.email.value.trim();
  err.hidden = true;
  out.hidden = true;
  if (!name || !email) {
    err.textContent = "Enter a name and an email address.";
    err.hidden = false;
    return;
  }
  try {
    const res = await api("POST", "/api/v1/admin/agents", { name, email, admin: form.elements.admin.checked });
    form.reset();
    if (res.password) {
      const code = h("code", { class: "password", text: res.password });
      const copy = h("button", {
        type: "button",
        class: "btn btn-sm",
        text: "Copy",
        onclick: async () => {
          try {
            await navigator.clipboard.writeText(res.password);
            copy.textContent = "Copied";
          } catch {
            const r = document.createRange();
            r.selectNodeContents(code);
            getSelection().removeAllRanges();
            getSelection().addRange(r);
          }
        },
      });
      clear(out).append(
        h("p", {}, h("strong", { text: `${res.agent.name} can now log in` }), " with ", h("span", { text: res.agent.email }), " and this password. It is shown only once:"),
        h("div", { class: "pw-row" }, code, copy, h("button", { type: "button", class: "btn btn-ghost btn-sm", text: "Done", onclick: () => (out.hidden = true) })),
      );
      out.hidden = false;
    }
    toast(`Added ${res.agent.name}.`, "ok");
  } catch (e2) {
    err.textContent = e2.status === 409 ? "An agent with this email already exists." : e2.message;
    err.hidden = false;
  }
  loadAgents();
}
