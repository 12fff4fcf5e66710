// The small labelled badges of the queue, the conversation header and the customer pane.

import { h } from "../shared/dom.js";
import { humanize } from "./format.js";
import { intentLabel, isMe, state } from "./state.js";
import { reasonLabel } from "./wording.js";

const STATES = { queued: "Waiting in queue", resolved: "Resolved", bot: "With the bot" };

/** Where the conversation stands: "Waiting in queue", "Assigned to you", ... */
export function stateChip(conv) {
  const mine = isMe(conv.assigned_agent);
  const label =
    conv.state === "assigned"
      ? mine
        ? "Assigned to you"
        : `Assigned to ${state.agentNames.get(conv.assigned_agent) || "another agent"}`
      : STATES[conv.state] || humanize(conv.state);
  return h("span", { class: `state state-${conv.state}${mine ? " state-mine" : ""}`, text: label });
}

export const priorityChip = (priority) => h("span", { class: `prio prio-badge-${priority}`, text: humanize(priority) });

export const reasonChip = (reason) => h("span", { class: "reason", text: reasonLabel(reason) });

/** The intent the model guessed for the conversation. */
export const guessChip = (intent) => h("span", { class: "guess", text: intentLabel(intent) });

/** A ticking waiting time (see queue.js tick()): from `base` ms measured at `at`. */
export function waitChip(base, at) {
  return h("span", { class: "wait", "data-wait": "", "data-base": String(base), "data-at": String(at), title: "Waiting for a person" });
}
