// Admin: reviewing training examples (agents' labels, "the bot could have answered this" at
// resolution). Pending ones are selected with checkboxes and approved, rejected or moved to
// another intent together; the server applies a review to all of them or to none.

import { clear, h } from "../shared/dom.js";
import { api } from "./api.js";
import { fmtAgo } from "./format.js";
import { intentPicker } from "./intent-picker.js";
import { $, toast } from "./page.js";
import { intentLabel, isMe, state } from "./state.js";

const STATUSES = ["pending", "approved", "rejected"];
const SOURCES = { label: "Labelled by an agent", resolution: "Bot could have answered" };
const EMPTY = {
  pending: ["Nothing to review", "When agents label shopper messages, or resolve saying the bot could have answered, the examples wait here."],
  approved: ["No approved examples", "Approved examples are used the next time the model is retrained."],
  rejected: ["No rejected examples", ""],
};

let status = "pending"; // the tab shown
let shown = []; // the examples of that tab
const selected = new Set(); // ids of the selected pending examples
let picker = null;

export function initExamples() {
  const tabs = [...document.querySelectorAll(".seg-btn[data-status]")];
  for (const tab of tabs) {
    tab.addEventListener("click", () => setStatus(tab.dataset.status));
    tab.addEventListener("keydown", (e) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
      if (!step) return;
      e.preventDefault();
      const next = tabs[(tabs.indexOf(tab) + step + tabs.length) % tabs.length];
      next.focus();
      setStatus(next.dataset.status);
    });
  }
  $("#ex-select-all").addEventListener("change", (e) => {
    selected.clear();
    if (e.target.checked) for (const ex of shown) selected.add(ex.id);
    renderSelection();
  });
  $("#bulk-approve").addEventListener("click", () => review({ status: "approved" }));
  $("#bulk-reject").addEventListener("click", () => review({ status: "rejected" }));
  $("#bulk-intent").addEventListener("click", openIntentDialog);
  $("#examples-body").addEventListener("keydown", moveBetweenRows);

  picker = intentPicker($("#intent-search"), $("#intent-list"), {
    onChange: () => {
      $("#intent-submit").disabled = false;
      $("#intent-approve").disabled = false;
    },
    onSubmit: () => review({ intent: picker.choice }, true),
  });
  $("#intent-cancel").addEventListener("click", () => $("#intent-dialog").close());
  $("#intent-approve").addEventListener("click", () => review({ intent: picker.choice, status: "approved" }, true));
  $("#intent-form").addEventListener("submit", (e) => {
    e.preventDefault();
    review({ intent: picker.choice }, true);
  });
}

function setStatus(next) {
  if (next === status) return;
  status = next;
  for (const tab of document.querySelectorAll(".seg-btn[data-status]")) {
    const on = tab.dataset.status === status;
    tab.setAttribute("aria-selected", String(on));
    tab.tabIndex = on ? 0 : -1;
    if (on) $("#examples-panel").setAttribute("aria-labelledby", tab.id);
  }
  selected.clear();
  loadExamples();
}

let reads = 0; // only the latest read is shown

/** Reads the current tab's list, with the counts of every tab. */
export async function loadExamples() {
  const read = ++reads;
  try {
    const list = await api("GET", `/api/v1/admin/training-examples?status=${status}`);
    if (read !== reads) return;
    for (const s of STATUSES) document.querySelector(`[data-ex-count="${s}"]`).textContent = String(list.counts[s] ?? 0);
    shown = list.training_examples;
  } catch (e) {
    if (e.status !== 401) showError(e.message);
    return;
  }
  const ids = new Set(shown.map((ex) => ex.id));
  for (const id of [...selected]) if (!ids.has(id)) selected.delete(id);
  render();
}

function render() {
  const pending = status === "pending";
  const body = clear($("#examples-body"));
  for (const ex of shown) body.append(row(ex, pending));
  $("#examples-table").hidden = !shown.length;
  $("#examples-table").classList.toggle("is-selectable", pending);
  $("#bulk-bar").hidden = !pending || !shown.length;
  const [title, hint] = EMPTY[status];
  const empty = $("#examples-empty");
  empty.hidden = shown.length > 0;
  clear(empty).append(h("p", { class: "empty-title", text: title }), hint ? h("p", { class: "muted", text: hint }) : null);
  renderSelection();
}

function row(ex, selectable) {
  const who = isMe(ex.agent_id) ? "you" : state.agentNames.get(ex.agent_id) || "an agent";
  const check = selectable
    ? h("td", { class: "col-check" }, h("input", {
        type: "checkbox",
        class: "ex-check",
        "aria-labelledby": `select-word ex-text-${ex.id}`,
        checked: selected.has(ex.id),
        onchange: (e) => {
          if (e.target.checked) selected.add(ex.id);
          else selected.delete(ex.id);
          renderSelection();
        },
      }))
    : null;
  return h(
    "tr",
    { "data-example": ex.id, "data-source": ex.source },
    check,
    h(
      "td",
      { class: "ex-msg" },
      h("div", { class: "ex-text", id: `ex-text-${ex.id}`, dir: "auto", text: ex.text }),
      h("span", { class: `source source-${ex.source}`, text: SOURCES[ex.source] || ex.source }),
    ),
    h("td", {}, h("div", { class: "ex-intent", text: intentLabel(ex.intent) }), h("div", { class: "mono small muted", text: ex.intent })),
    h(
      "td",
      { class: "small col-when" },
      h("div", { text: `${fmtAgo(ex.updated_at || ex.created_at)} by ${who}` }),
      h("a", { href: `#/inbox/${encodeURIComponent(ex.conversation_id)}`, text: "Open conversation" }),
    ),
  );
}

/** The checkboxes, the "n selected" line and the actions follow the selection. */
function renderSelection() {
  for (const tr of document.querySelectorAll("#examples-body tr")) {
    const on = selected.has(tr.dataset.example);
    tr.classList.toggle("is-selected", on);
    const box = tr.querySelector(".ex-check");
    if (box) box.checked = on;
  }
  const n = selected.size;
  const all = $("#ex-select-all");
  all.checked = n > 0 && n === shown.length;
  all.indeterminate = n > 0 && n < shown.length;
  $("#ex-selected").textContent = n ? `${n} selected` : "None selected";
  for (const id of ["#bulk-approve", "#bulk-reject", "#bulk-intent"]) $(id).disabled = n === 0;
}

/** Up and Down move between the rows' checkboxes (Space ticks them). */
function moveBetweenRows(e) {
  if (!e.target.classList.contains("ex-check") || !["ArrowDown", "ArrowUp"].includes(e.key)) return;
  const boxes = [...document.querySelectorAll("#examples-body .ex-check")];
  const next = boxes[boxes.indexOf(e.target) + (e.key === "ArrowDown" ? 1 : -1)];
  e.preventDefault();
  if (next) next.focus();
}

function openIntentDialog() {
  if (!selected.size) return;
  const n = selected.size;
  $("#intent-what").textContent = `For ${n === 1 ? "the selected example" : `the ${n} selected examples`}. They stay pending unless you also approve them.`;
  $("#intent-error").hidden = true;
  $("#intent-submit").disabled = true;
  $("#intent-approve").disabled = true;
  const intents = new Set(shown.filter((ex) => selected.has(ex.id)).map((ex) => ex.intent));
  picker.reset(intents.size === 1 ? [...intents][0] : null);
  $("#intent-dialog").showModal();
  $("#intent-search").focus();
}

/** Applies `change` ({status} and/or {intent}) to every selected example, all or none. */
async function review(change, fromDialog = false) {
  const ids = [...selected];
  if (!ids.length || (fromDialog && !change.intent)) return;
  showError("");
  const buttons = ["#bulk-approve", "#bulk-reject", "#bulk-intent", "#intent-submit", "#intent-approve"].map((id) => $(id));
  for (const b of buttons) b.disabled = true;
  try {
    const { reviewed } = await api("POST", "/api/v1/admin/training-examples/review", { ids, ...change });
    if (fromDialog) $("#intent-dialog").close();
    toast(reviewedText(reviewed, change), "ok");
    selected.clear();
  } catch (e) {
    if (fromDialog) {
      $("#intent-error").textContent = e.message;
      $("#intent-error").hidden = false;
      $("#intent-submit").disabled = $("#intent-approve").disabled = false;
    } else {
      showError(e.message);
    }
  }
  await loadExamples();
  // The button pressed may be disabled or gone now: keep the keyboard in the list.
  const lost = !document.activeElement || document.activeElement === document.body || document.activeElement.disabled;
  if (lost && !$("#intent-dialog").open) ($("#bulk-bar").hidden ? $(`.seg-btn[data-status="${status}"]`) : $("#ex-select-all")).focus();
}

function reviewedText(n, { status: to, intent }) {
  const what = n === 1 ? "1 example" : `${n} examples`;
  if (intent && to === "approved") return `Moved ${what} to “${intentLabel(intent)}” and approved.`;
  if (intent) return `Moved ${what} to “${intentLabel(intent)}”; still pending.`;
  return to === "approved" ? `Approved ${what}.` : `Rejected ${what}.`;
}

function showError(text) {
  const err = $("#examples-error");
  err.textContent = text;
  err.hidden = !text;
}
