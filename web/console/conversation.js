// The open conversation: reading it, its header, and the agent's actions (claim, resolve, release...).

import { agentsNamed } from "../shared/conversation-events.js";
import { clear, h } from "../shared/dom.js";
import { api } from "./api.js";
import { guessChip, priorityChip, reasonChip, stateChip, waitChip } from "./chips.js";
import { focusComposer, renderComposer, setComposerError } from "./composer.js";
import { closeCustomerDrawer, renderCustomer, renderCustomerPlaceholder, toggleCustomerDrawer } from "./customer.js";
import { updateTitle } from "./live.js";
import { $, toast } from "./page.js";
import { markSelected, queuedEntry, refreshLists, renderQueue, tick } from "./queue.js";
import { openResolveDialog } from "./resolve-dialog.js";
import { navigateTo } from "./router.js";
import { canAnswer, learnAgentNames, state } from "./state.js";
import { appendMessages, clearTranscript } from "./transcript.js";
import { priorityOf } from "./wording.js";

export const actions = {
  claim: () => state.conv && state.conv.state === "queued" && act("claim", undefined, "Claimed: the shopper sees that you joined."),
  resolve: () => canAnswer() && act("resolve", undefined, "Resolved. The shopper is asked for a rating."),
  /** Resolve, marking that the bot could have answered (a dialog asks which intent). */
  resolveLearning: () => canAnswer() && openResolveDialog(),
  release: () => canAnswer() && act("release", undefined, "Released back to the queue."),
  bot: () => canAnswer() && act("return-to-bot", undefined, "Handed back to the bot."),
};

export function initConversation() {
  $("#act-claim").addEventListener("click", actions.claim);
  $("#cta-claim").addEventListener("click", actions.claim);
  $("#act-resolve").addEventListener("click", actions.resolve);
  $("#act-resolve-more").addEventListener("click", actions.resolveLearning);
  $("#act-release").addEventListener("click", actions.release);
  $("#act-bot").addEventListener("click", actions.bot);
  $("#act-reassign").addEventListener("change", (e) => {
    const to = e.target.value;
    if (to && state.conv) act("reassign", { agent_id: to }, `Reassigned to ${state.agentNames.get(to) || "another agent"}`);
  });
  $("#back-btn").addEventListener("click", () => navigateTo(null));
  $("#customer-toggle").addEventListener("click", toggleCustomerDrawer);
}

/** Shows conversation `id` (null: none) and reads it. */
export async function openConversation(id) {
  state.selected = id;
  state.conv = null;
  state.lastSeq = 0;
  document.body.classList.toggle("has-conv", !!id);
  closeCustomerDrawer();
  $("#conv-empty").hidden = !!id;
  $("#conv").hidden = !id;
  clearTranscript();
  clear($("#customer-pane"));
  if (!id) {
    renderCustomerPlaceholder();
    renderQueue();
    return;
  }
  state.unseen.delete(id);
  updateTitle();
  markSelected(id, { reveal: true });
  $("#conv-name").textContent = state.customerNames.get(id) || "Loading…";
  clear($("#conv-meta"));
  setComposerError("");
  await refreshConversation();
}

let convRun = null;
/** Reads what is new in the open conversation (one request at a time, none missed). */
export async function refreshConversation() {
  const id = state.selected;
  if (!id) return;
  if (convRun && convRun.id === id) {
    convRun.again = true;
    return convRun.promise;
  }
  const run = { id, again: false };
  run.promise = (async () => {
    do {
      run.again = false;
      try {
        const view = await api("GET", `/api/v1/agent/conversations/${encodeURIComponent(id)}?after=${state.lastSeq}`);
        if (state.selected !== id) break;
        applyConversation(view);
      } catch (e) {
        if (state.selected !== id) break;
        if (e.status === 403 || e.status === 404) {
          showProblem(e.status === 404 ? "This conversation does not exist." : "This conversation is assigned to another agent.");
        } else if (e.status !== 401) {
          toast(e.message, "error");
        }
        break;
      }
    } while (run.again);
    if (convRun === run) convRun = null;
  })();
  convRun = run;
  return run.promise;
}

/** Reads the open conversation again from the start (events may have been missed). */
export async function reloadConversation() {
  state.conv = null;
  state.lastSeq = 0;
  clearTranscript();
  await refreshConversation();
}

function showProblem(text) {
  $("#conv-name").textContent = "Not available";
  clear($("#conv-meta"));
  clearTranscript().append(h("div", { class: "empty" }, h("p", { class: "empty-title", text })));
  renderActions(null);
  renderComposer(null);
}

export function customerName(conv) {
  if (conv.customer && conv.customer.name) return conv.customer.name;
  if (conv.customer && conv.customer.email) return conv.customer.email;
  return "Guest";
}

function applyConversation(view) {
  const first = !state.conv;
  const fresh = view.messages.filter((m) => m.seq > state.lastSeq).sort((a, b) => a.seq - b.seq);
  state.conv = { ...view, messages: first ? fresh : state.conv.messages.concat(fresh) };
  if (fresh.length) state.lastSeq = fresh[fresh.length - 1].seq;
  for (const m of fresh) if (m.sender === "event") learnAgentNames(agentsNamed(m.event));
  const name = customerName(view);
  state.customerNames.set(view.conversation_id, name);
  $("#conv-name").textContent = name;
  renderMeta();
  renderActions(state.conv);
  renderComposer(state.conv);
  renderCustomer(state.conv);
  appendMessages(fresh, first);
  const row = document.querySelector(`.qrow[data-id="${CSS.escape(view.conversation_id)}"] .qname`);
  if (row) row.textContent = name;
}

function renderMeta() {
  const conv = state.conv;
  const meta = clear($("#conv-meta"));
  meta.append(stateChip(conv));
  if (conv.state === "queued" && conv.priority != null) meta.append(priorityChip(priorityOf(conv)));
  if (conv.reason) meta.append(reasonChip(conv.reason));
  if (conv.intent) meta.append(guessChip(conv.intent));
  if (conv.state === "queued" && conv.queued_at) {
    // queued_at is the server's clock; the queue list's waiting_ms avoids clock skew.
    const entry = queuedEntry(conv.conversation_id);
    meta.append(entry ? waitChip(entry.waiting_ms ?? 0, state.fetchedAt) : waitChip(Math.max(0, Date.now() - conv.queued_at), performance.now()));
  }
  tick();
}

function renderActions(conv) {
  const answering = canAnswer(conv);
  $("#act-claim").hidden = !(conv && conv.state === "queued");
  $("#act-resolve").hidden = !answering;
  $("#resolve-split").hidden = !answering;
  $("#act-release").hidden = !answering;
  $("#act-bot").hidden = !answering;
  $("#act-reassign").hidden = !(conv && state.me.is_admin && conv.state === "assigned");
  if (conv && state.me.is_admin) renderReassign();
}

/** The admin's "Reassign to…" menu: every agent but the one it is assigned to. */
export function renderReassign() {
  const select = $("#act-reassign");
  if (!state.conv || !state.me || !state.me.is_admin) return;
  clear(select).append(h("option", { value: "", text: "Reassign to…" }));
  for (const [id, name] of state.agentNames) {
    if (id === state.conv.assigned_agent) continue;
    select.append(h("option", { value: id, text: id === state.me.id ? `${name} (you)` : name }));
  }
  select.value = "";
}

async function act(action, body, done) {
  if (!state.conv) return;
  const id = state.conv.conversation_id;
  if (action === "release") state.suppress.add(id);
  try {
    await api("POST", `/api/v1/agent/conversations/${encodeURIComponent(id)}/${action}`, body);
    toast(done, "ok");
  } catch (e) {
    state.suppress.delete(id);
    toast(e.status === 409 && action === "claim" ? "Someone else already claimed this conversation." : e.message, "error");
  }
  await Promise.all([refreshConversation(), refreshLists()]);
  if (action === "claim" && state.conv && state.conv.assigned_agent === state.me.id) focusComposer("reply");
}
