// Resolving with "the bot could have answered this": the agent picks the intent the bot should
// have recognised, and the shopper's last message becomes a pending training example.

import { api } from "./api.js";
import { refreshConversation } from "./conversation.js";
import { guessSentence, intentPicker } from "./intent-picker.js";
import { $, toast } from "./page.js";
import { refreshLists } from "./queue.js";
import { canAnswer, intentLabel, state } from "./state.js";
import { lastShopperMessage, rerender } from "./transcript.js";

let picker = null;
let message = null; // the shopper message that would become the example

export function initResolveDialog() {
  picker = intentPicker($("#resolve-search"), $("#resolve-list"), { onChange: update, onSubmit: submit });
  $("#resolve-learn").addEventListener("change", () => {
    update();
    if ($("#resolve-learn").checked) $("#resolve-search").focus();
  });
  $("#resolve-cancel").addEventListener("click", () => $("#resolve-dialog").close());
  $("#resolve-form").addEventListener("submit", (e) => {
    e.preventDefault();
    submit();
  });
}

/** Opens the dialog for the open conversation (which this agent can resolve). */
export function openResolveDialog() {
  if (!canAnswer()) return;
  message = lastShopperMessage();
  const learn = $("#resolve-learn");
  learn.checked = !!message;
  learn.disabled = !message;
  $("#resolve-none").hidden = !!message;
  $("#resolve-quote").textContent = message ? message.text : "";
  $("#resolve-guess").textContent = message ? `${guessSentence(message)} Pick the intent the bot should have recognised.`.trim() : "";
  $("#resolve-error").hidden = true;
  picker.reset(null);
  update();
  $("#resolve-dialog").showModal();
  (message ? $("#resolve-search") : $("#resolve-submit")).focus();
}

function update() {
  const learn = $("#resolve-learn").checked;
  $("#resolve-learn-fields").hidden = !learn;
  const submit = $("#resolve-submit");
  submit.disabled = learn && !picker.choice;
  submit.textContent = learn && picker.choice ? `Resolve as “${intentLabel(picker.choice)}”` : "Resolve";
}

async function submit() {
  const learn = $("#resolve-learn").checked;
  const intent = learn ? picker.choice : null;
  if (!state.conv || (learn && !intent)) return;
  const id = state.conv.conversation_id;
  const learnt = message;
  const button = $("#resolve-submit");
  button.disabled = true;
  try {
    await api("POST", `/api/v1/agent/conversations/${encodeURIComponent(id)}/resolve`, intent ? { bot_could_have_answered: intent } : undefined);
    $("#resolve-dialog").close();
    if (intent && learnt) {
      state.labelled.set(learnt.id, intent);
      rerender(learnt);
      toast(`Resolved. The shopper's message waits for review as “${intentLabel(intent)}”.`, "ok");
    } else {
      toast("Resolved. The shopper is asked for a rating.", "ok");
    }
  } catch (e) {
    const err = $("#resolve-error");
    err.textContent = e.message;
    err.hidden = false;
    button.disabled = false;
    return;
  }
  await Promise.all([refreshConversation(), refreshLists()]);
}
