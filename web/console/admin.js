// Admin page: training examples (examples.js), model versions (models.js), managing agents.

import { clear, h } from "../shared/dom.js";
import { api } from "./api.js";
import { initExamples, loadExamples } from "./examples.js";
import { initModels, loadModels } from "./models.js";
import { $, toast } from "./page.js";
import { isMe, learnAgentNames } from "./state.js";

let agents = [];

export function initAdmin() {
  initExamples();
  initModels();
  $("#agent-form").addEventListener("submit", addAgent);
}

export async function showAdmin() {
  loadModels();
  // Agents before examples: the examples name who labelled them.
  await loadAgents();
  await loadExamples();
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
