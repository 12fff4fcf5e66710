// The console's state in one place: the agent, the queue lists, the open conversation, names learned.

import { humanize } from "./format.js";

export const state = {
  me: null, // the logged-in agent: {id, name, email, is_admin}
  online: 0, // agents with the console open
  view: "inbox", // "inbox" | "insights" | "admin"
  tab: "queued", // the queue tab: "queued" | "mine" | "team" | "resolved"
  lists: { queued: [], assigned: [], resolved: [] },
  fetchedAt: 0, // performance.now() when the lists were read (for waiting times)
  selected: null, // the open conversation's id
  conv: null, // the open conversation's view, with every message read so far
  lastSeq: 0, // the open conversation's last message read
  mode: "reply", // the composer's: "reply" | "note"
  knownQueued: null, // ids seen in the queue (null until the first load)
  unseen: new Set(), // hand-offs that arrived live and were not opened yet
  suppress: new Set(), // conversations this agent just put back in the queue (no alert for them)
  intents: new Map(), // intent name -> label
  customerNames: new Map(), // conversation id -> customer name, once seen
  agentNames: new Map(), // agent id -> name
  labelled: new Map(), // message id -> intent this agent labelled it with
  stream: null, // the agents' event stream while logged in
  streamDropped: false,
};

/** Counts the browser tests read (window.SwitchboardConsole.stats). */
export const stats = { beeps: 0, handoffs: 0 };
window.SwitchboardConsole = { stats };

export function isMe(agentId) {
  return !!state.me && agentId === state.me.id;
}

/** An intent's label, for agents ("damaged_or_wrong_item" -> "Damaged or wrong item"). */
export function intentLabel(name) {
  return state.intents.get(name) || humanize(name);
}

export function learnAgentNames(agents) {
  for (const a of agents) if (a && a.id) state.agentNames.set(a.id, a.name);
}

/** The open conversation can be answered by this agent (theirs, or any for an admin). */
export function canAnswer(conv = state.conv) {
  return !!conv && conv.state === "assigned" && (isMe(conv.assigned_agent) || state.me.is_admin);
}
