// Admin page: training examples (examples.js), model versions (models.js), managing agents
// (add, disable, enable, unlock after failed sign-ins, reset a password).

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
  const status = a.disabled ? ["Disabled", "chip-guest"] : a.locked ? ["Locked", "chip-guest"] : ["Active", "chip-verified"];
  const action = (text, run, danger) =>
    h("button", { type: "button", class: `btn btn-sm ${danger ? "btn-danger" : ""}`, text, onclick: run });
  const actions = self
    ? []
    : [
        a.disabled ? action("Enable", () => changeAgent(a, "enable", `${a.name} can log in again.`)) : twoClicks(action("Disable", null, true), "disable", () => changeAgent(a, "disable", `${a.name} is disabled and logged out everywhere.`)),
        a.locked ? action("Unlock", () => changeAgent(a, "unlock", `${a.name} is unlocked.`)) : null,
        twoClicks(action("Reset password", null, false), "reset the password", () => resetPassword(a)),
      ];
  return h(
    "tr",
    { "data-agent": a.id, class: a.disabled ? "is-disabled" : "" },
    h("td", {}, h("span", { text: a.name }), self ? h("span", { class: "muted", text: " (you)" }) : null),
    h("td", { text: a.email }),
    h("td", {}, h("span", { class: `chip ${a.is_admin ? "chip-admin" : ""}`, text: a.is_admin ? "Admin" : "Agent" })),
    h("td", {}, h("span", { class: `chip ${status[1]}`, text: status[0] })),
    h("td", { class: "right actions" }, ...actions),
  );
}

/** A button that acts on its second click within four seconds (instead of a confirm() dialog). */
function twoClicks(button, what, run) {
  const label = button.textContent;
  button.addEventListener("click", () => {
    if (button.dataset.armed !== "1") {
      button.dataset.armed = "1";
      button.textContent = `Click again to ${what}`;
      setTimeout(() => {
        if (button.isConnected) {
          button.dataset.armed = "";
          button.textContent = label;
        }
      }, 4000);
      return;
    }
    run();
  });
  return button;
}

async function changeAgent(a, change, done) {
  try {
    await api("POST", `/api/v1/admin/agents/${encodeURIComponent(a.id)}/${change}`);
    toast(done, "ok");
  } catch (e) {
    toast(e.message, "error");
  }
  loadAgents();
}

async function resetPassword(a) {
  try {
    const res = await api("POST", `/api/v1/admin/agents/${encodeURIComponent(a.id)}/reset-password`);
    showPassword(res.agent, res.password, "was logged out everywhere and can log in");
  } catch (e) {
    toast(e.message, "error");
  }
  loadAgents();
}

/** Shows a generated password once, with a copy button. */
function showPassword(agent, password, what) {
  const out = $("#new-password");
  const code = h("code", { class: "password", text: password });
  const copy = h("button", {
    type: "button",
    class: "btn btn-sm",
    text: "Copy",
    onclick: async () => {
      try {
        await navigator.clipboard.writeText(password);
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
    h("p", {}, h("strong", { text: `${agent.name} ${what}` }), " with ", h("span", { text: agent.email }), " and this password. It is shown only once:"),
    h("div", { class: "pw-row" }, code, copy, h("button", { type: "button", class: "btn btn-ghost btn-sm", text: "Done", onclick: () => (out.hidden = true) })),
  );
  out.hidden = false;
}

async function addAgent(e) {
  e.preventDefault();
  const form = e.currentTarget;
  const err = $("#agent-form-error");
  const name = form.elements.name.value.trim();
  const email = form.elements.email.value.trim();
  err.hidden = true;
  $("#new-password").hidden = true;
  if (!name || !email) {
    err.textContent = "Enter a name and an email address.";
    err.hidden = false;
    return;
  }
  try {
    const res = await api("POST", "/api/v1/admin/agents", { name, email, admin: form.elements.admin.checked });
    form.reset();
    if (res.password) showPassword(res.agent, res.password, "can now log in");
    toast(`Added ${res.agent.name}.`, "ok");
  } catch (e2) {
    err.textContent = e2.status === 409 ? "An agent with this email already exists." : e2.message;
    err.hidden = false;
  }
  loadAgents();
}
