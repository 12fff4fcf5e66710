// The console's words for what the server sends as names: hand-off reasons, priorities, events.

import { humanize } from "./format.js";

const REASONS = {
  sensitive: "Sensitive topic",
  low_confidence: "Bot unsure",
  ambiguous: "Ambiguous question",
  customer_requested: "Asked for a person",
  handler_error: "Bot error",
  verification_failed: "Verification failed",
  out_of_scope_twice: "Out of scope twice",
  not_answered: "Bot's answer did not help",
  no_answer_in_data: "No answer in store data",
};

/** Why the bot handed the conversation to a person. */
export const reasonLabel = (reason) => REASONS[reason] || humanize(reason);

/** Priorities, least urgent first. */
const PRIORITIES = ["low", "normal", "high", "urgent"];

/** A known priority name ("normal" for anything else). */
export function priorityOf(conv) {
  return PRIORITIES.includes(conv.priority) ? conv.priority : "normal";
}

/** High and urgent conversations stand out in every list. */
export const isPressing = (priority) => PRIORITIES.indexOf(priority) >= PRIORITIES.indexOf("high");

/** An agent as named in an event line. */
const nameOf = (person, fallback = "an agent") => person?.name || fallback;

/** Conversation events in agents' words (see shared/conversation-events.js for the kinds). */
export const AGENT_WORDING = {
  handoff: (e) => `Handed to a person · ${reasonLabel(e.reason) || "queued"}`,
  released: (e) => `Released back to the queue by ${nameOf(e.by)}`,
  claimed: (e) => `${nameOf(e.agent, "An agent")} joined the conversation`,
  auto_assigned: (e) => `${nameOf(e.agent, "An agent")} joined the conversation · assigned automatically`,
  reassigned: (e) => `Reassigned to ${nameOf(e.agent, "another agent")} by ${nameOf(e.by, "an admin")}`,
  returned_to_bot: (e) => `Handed back to the bot by ${nameOf(e.by)}`,
  resolved: (e) => `Resolved by ${nameOf(e.by)} · the shopper was asked for a rating`,
  bot_confirmed: () => "Resolved by the bot · the shopper said the answer helped",
  bot_assumed: () => "Resolved by the bot · no reply after its answer",
  abandoned: () => "The shopper left without an answer",
};
