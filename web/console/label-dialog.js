// The label dialog: an agent names the intent a shopper message really had, for an admin to
// review. One example per message: labelling it again changes the label.

import { api } from "./api.js";
import { guessSentence, intentPicker } from "./intent-picker.js";
import { $, toast } from "./page.js";
import { intentLabel, state } from "./state.js";

let target = null; // the message being labelled
let onLabelled = null;
let picker = null;

export function initLabelDialog() {
  const search = $("#label-search");
  picker = intentPicker(search, $("#label-list"), {
    onChange: (name) => ($("#label-submit").disabled = name === (state.labelled.get(target?.id) || target?.label?.intent)),
    onSubmit: submit,
  });
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
  const current = state.labelled.get(m.id) || m.label?.intent || null;
  $("#label-h").textContent = current ? "Change the label" : "Label this message";
  $("#label-quote").textContent = m.text;
  const guess = guessSentence(m);
  $("#label-guess").textContent = current
    ? `Labelled “${intentLabel(current)}” so far. ${guess} Pick another intent to change it.`
    : `${guess} Pick what the shopper really meant.`.trim();
  $("#label-error").hidden = true;
  $("#label-submit").disabled = true;
  $("#label-submit").textContent = current ? "Change label" : "Save label";
  picker.reset(current);
  $("#label-dialog").showModal();
  $("#label-search").focus();
}

async function submit() {
  const intent = picker.choice;
  if (!target || !intent) return;
  const m = target;
  const before = state.labelled.get(m.id);
  if (intent === before) return;
  $("#label-submit").disabled = true;
  try {
    await api("POST", `/api/v1/agent/messages/${encodeURIComponent(m.id)}/label`, { intent });
    state.labelled.set(m.id, intent);
    $("#label-dialog").close();
    toast(
      before ? `Label changed to “${intentLabel(intent)}”: waiting for an admin's review.` : `Labelled as “${intentLabel(intent)}”: waiting for an admin's review.`,
      "ok",
    );
    onLabelled();
  } catch (e) {
    const err = $("#label-error");
    err.textContent = e.message;
    err.hidden = false;
    $("#label-submit").disabled = false;
  }
}
