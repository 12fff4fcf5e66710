// The label dialog: an agent names the intent a shopper message really had, for an admin to review.

import { clear, h } from "../shared/dom.js";
import { api } from "./api.js";
import { percent } from "./format.js";
import { $, toast } from "./page.js";
import { intentLabel, state } from "./state.js";

let target = null; // the message being labelled
let onLabelled = null;
let active = 0; // index of the highlighted intent in the filtered list
let choice = null; // the chosen intent's name

export function initLabelDialog() {
  const search = $("#label-search");
  search.addEventListener("input", () => {
    active = 0;
    renderList();
  });
  search.addEventListener("keydown", onSearchKey);
  $("#label-dialog").addEventListener("keydown", (e) => {
    if (e.key === "/" && document.activeElement !== search) {
      e.preventDefault();
      search.focus();
    }
  });
  $("#label-cancel").addEventListener("click", () => $("#label-dialog").close());
  $("#label-form").addEventListener("submit", (e) => {
    e.preventDefault();
    submit();
  });
}

/** Opens the dialog for shopper message `m`; `labelled()` runs once its label is saved. */
export function openLabelDialog(m, labelled) {
  target = m;
  onLabelled = labelled;
  choice = null;
  $("#label-quote").textContent = m.text;
  const top = m.triage && m.triage.intents && m.triage.intents[0];
  $("#label-guess").textContent = top
    ? `The model guessed “${intentLabel(top.intent)}” (${percent(top.confidence)}). Pick what the shopper really meant.`
    : "Pick what the shopper really meant.";
  $("#label-search").value = "";
  $("#label-error").hidden = true;
  $("#label-submit").disabled = true;
  renderList();
  $("#label-dialog").showModal();
  $("#label-search").focus();
}

function filteredIntents() {
  const q = $("#label-search").value.trim().toLowerCase();
  const all = [...state.intents].map(([name, label]) => ({ name, label }));
  if (!q) return all;
  return all.filter((i) => i.label.toLowerCase().includes(q) || i.name.toLowerCase().includes(q) || i.name.replace(/_/g, " ").includes(q));
}

function renderList() {
  const list = clear($("#label-list"));
  const items = filteredIntents();
  active = Math.max(0, Math.min(active, items.length - 1));
  items.forEach((intent, index) => {
    const chosen = choice === intent.name;
    list.append(
      h(
        "li",
        {
          role: "option",
          id: `intent-opt-${intent.name}`,
          class: "label-opt" + (index === active ? " is-active" : "") + (chosen ? " is-chosen" : ""),
          "aria-selected": String(chosen),
          "data-intent": intent.name,
          onclick: () => choose(intent.name),
          ondblclick: () => {
            choose(intent.name);
            submit();
          },
        },
        h("span", { class: "opt-label", text: intent.label }),
        h("span", { class: "opt-name", text: intent.name }),
      ),
    );
  });
  if (!items.length) list.append(h("li", { class: "label-none", text: "No intent matches." }));
  const highlighted = items[active];
  $("#label-search").setAttribute("aria-activedescendant", highlighted ? `intent-opt-${highlighted.name}` : "");
  list.querySelector(".is-active")?.scrollIntoView({ block: "nearest" });
}

function choose(name) {
  choice = name;
  active = Math.max(0, filteredIntents().findIndex((i) => i.name === name));
  $("#label-submit").disabled = false;
  renderList();
}

function onSearchKey(e) {
  const items = filteredIntents();
  if (e.key === "ArrowDown" || e.key === "ArrowUp") {
    e.preventDefault();
    active = Math.max(0, Math.min(items.length - 1, active + (e.key === "ArrowDown" ? 1 : -1)));
    renderList();
  } else if (e.key === "Enter") {
    // Enter picks the highlighted intent; Enter on the picked one saves it.
    e.preventDefault();
    const intent = items[active];
    if (!intent) return;
    if (choice === intent.name) submit();
    else choose(intent.name);
  }
}

async function submit() {
  if (!target || !choice) return;
  const m = target;
  const intent = choice;
  $("#label-submit").disabled = true;
  try {
    await api("POST", `/api/v1/agent/messages/${encodeURIComponent(m.id)}/label`, { intent });
    state.labelled.set(m.id, intent);
    $("#label-dialog").close();
    toast(`Labelled as “${intentLabel(intent)}”: waiting for an admin's review.`, "ok");
    onLabelled();
  } catch (e) {
    const err = $("#label-error");
    err.textContent = e.message;
    err.hidden = false;
    $("#label-submit").disabled = false;
  }
}
