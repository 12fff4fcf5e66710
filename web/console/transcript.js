// The conversation's transcript: messages, notes, event lines, days; triage and Label under shopper messages.

import { describeEvent } from "../shared/conversation-events.js";
import { clear, h } from "../shared/dom.js";
import { initials } from "../shared/initials.js";
import { linkify } from "../shared/links.js";
import { customerName } from "./conversation.js";
import { fmtDate, fmtTime, humanize, percent } from "./format.js";
import { openLabelDialog } from "./label-dialog.js";
import { $ } from "./page.js";
import { intentLabel, isMe, state } from "./state.js";
import { AGENT_WORDING } from "./wording.js";

/** Empties the transcript; returns it. */
export function clearTranscript() {
  const log = clear($("#transcript"));
  delete log.dataset.day;
  return log;
}

/** Adds messages not shown yet; follows them if the agent was reading the end (or on `first`). */
export function appendMessages(messages, first) {
  const log = $("#transcript");
  const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 120;
  let lastDay = log.dataset.day || "";
  for (const m of messages) {
    if (log.querySelector(`[data-seq="${m.seq}"]`)) continue;
    const day = fmtDate(m.created_at);
    if (day !== lastDay) {
      log.append(h("div", { class: "day", text: day }));
      lastDay = day;
    }
    log.append(messageEl(m));
  }
  log.dataset.day = lastDay;
  if (first || nearBottom || messages.some((m) => isMe(m.agent_id))) log.scrollTop = log.scrollHeight;
}

function messageEl(m) {
  const at = new Date(m.created_at);
  const time = h("time", { class: "time", datetime: at.toISOString(), text: fmtTime(m.created_at), title: at.toLocaleString() });
  switch (m.sender) {
    case "event":
      return eventEl(m, time);
    case "note":
      return noteEl(m, time);
    case "shopper":
      return shopperEl(m, time);
    default:
      return botOrAgentEl(m, time);
  }
}

function eventEl(m, time) {
  const { line } = describeEvent(m.event, AGENT_WORDING);
  return h("div", { class: "event", "data-seq": m.seq, role: "note", hidden: !line }, h("span", { class: "event-text", text: line || "" }), time);
}

function noteEl(m, time) {
  const who = isMe(m.agent_id) ? "You" : state.agentNames.get(m.agent_id) || "An agent";
  return h(
    "div",
    { class: "msg note", "data-seq": m.seq },
    h("div", { class: "note-head" }, h("span", { class: "note-tag", text: "Private note" }), h("span", { class: "who", text: who }), time),
    h("div", { class: "note-body", dir: "auto", text: m.text }),
  );
}

function shopperEl(m, time) {
  const name = state.conv ? customerName(state.conv) : "Shopper";
  const foot = h("div", { class: "msg-foot" });
  if (m.triage && m.triage.intents && m.triage.intents.length) foot.append(triageEl(m.triage));
  const labelled = state.labelled.get(m.id) || m.label?.intent || null;
  if (labelled) foot.append(h("span", { class: "labelled", text: `Labelled: ${intentLabel(labelled)}` }));
  foot.append(
    h("button", {
      type: "button",
      class: "label-btn",
      text: labelled ? "Relabel" : "Label",
      title: labelled ? "Change the label of this message (l)" : "Label the intent of this message (l)",
      onclick: () => openLabelDialog(m, () => rerender(m)),
    }),
  );
  return h(
    "div",
    { class: "msg shopper", "data-seq": m.seq, "data-id": m.id },
    h("div", { class: "avatar", "aria-hidden": "true", text: initials(name) }),
    h(
      "div",
      { class: "msg-col" },
      h("div", { class: "meta" }, h("span", { class: "who", text: name === "Guest" ? "Shopper" : name }), time),
      h("div", { class: "bubble", dir: "auto", text: m.text }),
      foot,
    ),
  );
}

/** Opens the label dialog for the open conversation's latest shopper message. */
export function labelLastShopperMessage() {
  const last = lastShopperMessage();
  if (last) openLabelDialog(last, () => rerender(last));
}

/** Shows a message again (it was just labelled), keeping the keyboard on its Label button. */
export function rerender(m) {
  const old = document.querySelector(`.msg[data-id="${CSS.escape(m.id)}"]`);
  if (!old) return;
  const hadFocus = old.contains(document.activeElement);
  const fresh = messageEl(m);
  old.replaceWith(fresh);
  if (hadFocus) fresh.querySelector(".label-btn")?.focus({ preventScroll: true });
}

/** The open conversation's latest shopper message, if any. */
export function lastShopperMessage() {
  return state.conv ? [...state.conv.messages].reverse().find((m) => m.sender === "shopper") || null : null;
}

/**
 * The model's reading of a shopper message: its top guess in the summary, the details (top
 * intents, decision and reason, model version) one click or key press away.
 */
function triageEl(triage) {
  const top = triage.intents[0];
  const confidence = Math.round(top.confidence * 100);
  const level = confidence >= 80 ? "high" : confidence >= 50 ? "mid" : "low";
  const decided = triage.decision && !["answer", "none"].includes(triage.decision);
  const facts = h(
    "dl",
    { class: "triage-facts" },
    h("dt", { text: "Top intents" }),
    h("dd", {}, h("ul", {}, triage.intents.slice(0, 3).map((i) => h("li", {}, h("span", { text: intentLabel(i.intent) }), " ", h("span", { class: "triage-conf", text: percent(i.confidence) }))))),
    h("dt", { text: "Decision" }),
    h("dd", { text: triage.reason ? `${humanize(triage.decision)} (${humanize(triage.reason)})` : humanize(triage.decision) }),
    triage.model_version ? [h("dt", { text: "Model" }), h("dd", { class: "mono", text: triage.model_version })] : null,
  );
  return h(
    "details",
    { class: `triage conf-${level}` },
    h(
      "summary",
      {},
      h("span", { class: "visually-hidden", text: "Model's guess: " }),
      h("span", { class: "triage-intent", text: intentLabel(top.intent) }),
      h("span", { class: "triage-conf", text: percent(top.confidence) }),
      decided ? h("span", { class: "triage-decision", text: humanize(triage.decision) }) : null,
    ),
    facts,
  );
}

function botOrAgentEl(m, time) {
  const isAgent = m.sender === "agent";
  const who = isAgent ? (isMe(m.agent_id) ? "You" : state.agentNames.get(m.agent_id) || "Agent") : "Bot";
  const col = h("div", { class: "msg-col" }, h("div", { class: "meta" }, h("span", { class: "who", text: who }), time), h("div", { class: "bubble", dir: "auto" }, linkify(m.text)));
  if (m.quick_replies && m.quick_replies.length) {
    col.append(h("div", { class: "qr-list", "aria-label": "Offered quick replies" }, m.quick_replies.map((q) => h("span", { class: "qr", text: q.label }))));
  }
  return h(
    "div",
    { class: `msg ${isAgent ? "agent" : "bot"}`, "data-seq": m.seq },
    col,
    h("div", { class: `avatar ${isAgent ? "" : "avatar-bot"}`, "aria-hidden": "true", text: isAgent ? initials(who === "You" ? state.me.name : who) : "B" }),
  );
}
