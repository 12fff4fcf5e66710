// The reply box: replies to the shopper and private notes, or what to do when this agent cannot write.

import { api } from "./api.js";
import { refreshConversation } from "./conversation.js";
import { $, toast } from "./page.js";
import { canAnswer, state } from "./state.js";

const WAITING_TEXTS = {
  queued: "This shopper is waiting for a person.",
  resolved: "This conversation is resolved; the shopper was asked for a rating.",
  bot: "The bot is handling this conversation.",
};
const HINTS = {
  queued: "Claim the conversation (c) to reply",
  resolved: "Resolved: the shopper was asked for a rating",
  bot: "The bot is handling this conversation",
};

export function initComposer() {
  $("#mode-reply").addEventListener("click", () => focusComposer("reply"));
  $("#mode-note").addEventListener("click", () => focusComposer(state.mode === "note" ? "reply" : "note"));
  $("#composer").addEventListener("submit", (e) => {
    e.preventDefault();
    send();
  });
  $("#composer-input").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      send();
    } else if (e.key === "Escape") {
      e.preventDefault();
      e.target.blur();
    }
  });
}

/** Shows the composer for the conversation `conv` (null: none open). */
export function renderComposer(conv) {
  const form = $("#composer");
  const input = $("#composer-input");
  const canWrite = canAnswer(conv);
  form.classList.toggle("is-disabled", !canWrite);
  for (const el of [input, $("#composer-send"), $("#mode-reply"), $("#mode-note")]) el.disabled = !canWrite;
  const othersOnly = conv && conv.state === "assigned" && !canWrite;
  form.hidden = !canWrite;
  $("#composer-cta").hidden = canWrite || !conv;
  $("#composer-cta-text").textContent = othersOnly ? "Another agent is answering this conversation." : WAITING_TEXTS[conv && conv.state] || "";
  $("#cta-claim").hidden = !(conv && conv.state === "queued");
  const hint = $("#composer-hint");
  if (!conv) hint.textContent = "";
  else if (canWrite) hint.textContent = state.mode === "note" ? "Only agents see notes · Enter to save" : "Enter to send · Shift+Enter for a new line";
  else hint.textContent = HINTS[conv.state] || "Assigned to another agent";
  input.placeholder = !canWrite ? "" : state.mode === "note" ? "Write a private note for the team…" : "Reply to the shopper…";
}

function setMode(mode) {
  state.mode = mode;
  $("#mode-reply").setAttribute("aria-checked", String(mode === "reply"));
  $("#mode-note").setAttribute("aria-checked", String(mode === "note"));
  $("#composer").classList.toggle("is-note", mode === "note");
  $("#composer-send").textContent = mode === "note" ? "Add note" : "Send";
  renderComposer(state.conv);
}

/** Switches to `mode` ("reply" or "note") and puts the cursor in the box, if it can be used. */
export function focusComposer(mode) {
  if (!state.conv) return;
  setMode(mode);
  const input = $("#composer-input");
  if (!input.disabled) input.focus();
  else toast(state.conv.state === "queued" ? "Claim the conversation first (c)." : "This conversation is not open with you.", "info");
}

export function setComposerError(text) {
  const el = $("#composer-error");
  el.hidden = !text;
  el.textContent = text || "";
}

let sending = false;
async function send() {
  const input = $("#composer-input");
  const text = input.value.trim();
  if (!text || sending || !state.conv || input.disabled) return;
  sending = true;
  $("#composer-send").disabled = true;
  const id = state.conv.conversation_id;
  try {
    await api("POST", `/api/v1/agent/conversations/${encodeURIComponent(id)}/${state.mode === "note" ? "notes" : "messages"}`, { text });
    input.value = "";
    setComposerError("");
    if (state.mode === "note") setMode("reply");
    await refreshConversation();
  } catch (e) {
    setComposerError(e.status === 409 || e.status === 403 ? `${e.message}.` : `Not sent: ${e.message}`);
    refreshConversation();
  } finally {
    sending = false;
    renderComposer(state.conv);
    input.focus();
  }
}
