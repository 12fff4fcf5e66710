// Asking before a change every shopper notices (promoting or rolling back a model), with a
// required reason when the admin overrides the gate. The request runs from the dialog: its
// error shows there and the dialog stays open.

import { clear } from "../shared/dom.js";
import { $ } from "./page.js";

let current = null; // {run, reason, after}

export function initConfirm() {
  $("#confirm-cancel").addEventListener("click", () => $("#confirm-dialog").close());
  $("#confirm-dialog").addEventListener("close", () => (current = null));
  $("#confirm-form").addEventListener("submit", (e) => {
    e.preventDefault();
    submit();
  });
}

/**
 * Opens the dialog. `body`: nodes or strings explaining what happens; `confirm`: the button's
 * words; `reason`: a reason is required and passed to `run(reason)`, an async function whose
 * thrown error's message is shown; `after()` runs once the dialog has closed on success.
 */
export function confirmAction({ title, body, confirm, reason = false, danger = false, run, after = null }) {
  current = { run, reason, after };
  $("#confirm-h").textContent = title;
  clear($("#confirm-body")).append(...[].concat(body));
  $("#confirm-reason-field").hidden = !reason;
  $("#confirm-reason").value = "";
  $("#confirm-error").hidden = true;
  const ok = $("#confirm-ok");
  ok.textContent = confirm;
  ok.disabled = false;
  ok.className = `btn ${danger ? "btn-danger-solid" : "btn-primary"}`;
  $("#confirm-dialog").showModal();
  // The least far-reaching choice has the focus: Cancel (or the reason to type).
  (reason ? $("#confirm-reason") : $("#confirm-cancel")).focus();
}

function showError(text) {
  const err = $("#confirm-error");
  err.textContent = text;
  err.hidden = false;
}

async function submit() {
  if (!current) return;
  const { run, reason, after } = current;
  const why = $("#confirm-reason").value.trim();
  if (reason && !why) {
    showError("Give a reason: it is kept in the audit log.");
    $("#confirm-reason").focus();
    return;
  }
  const ok = $("#confirm-ok");
  ok.disabled = true;
  try {
    await run(why);
  } catch (e) {
    showError(e.message);
    ok.disabled = false;
    return;
  }
  $("#confirm-dialog").close();
  if (after) after();
}
