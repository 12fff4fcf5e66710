// Conversation events (the server's JSON `event`) read into one shape that each app puts in its words.

/**
 * What happened, from an event message's `event` object:
 *   kind    "handoff" | "released" | "claimed" | "auto_assigned" | "reassigned" |
 *           "returned_to_bot" | "resolved" | "bot_confirmed" | "bot_assumed" | "abandoned",
 *           or null for an event this version does not know;
 *   state   the conversation's state after it ("queued", "assigned", "bot", "resolved");
 *   reason  why the conversation was first handed to a person (queued events);
 *   agent   {id, name} the conversation is now assigned to (assigned events);
 *   by      {id, name} of the agent who released, reassigned, returned or resolved it.
 */
function readEvent(event) {
  const none = { kind: null, state: null, reason: null, agent: null, by: null };
  if (event && event.type === "outcome") {
    // The bot resolved the conversation (confirmed by the shopper, or assumed after a silence),
    // or the shopper left without an answer.
    const resolved = event.outcome === "bot_confirmed" || event.outcome === "bot_assumed";
    if (!resolved && event.outcome !== "abandoned") return none;
    return { ...none, kind: event.outcome, state: resolved ? "resolved" : null };
  }
  if (!event || event.type !== "state") return none;
  switch (event.state) {
    case "queued": {
      const by = person(event.released_by);
      return { ...none, kind: by ? "released" : "handoff", state: "queued", reason: event.reason || null, by };
    }
    case "assigned": {
      const by = person(event.reassigned_by);
      const kind = by ? "reassigned" : event.auto ? "auto_assigned" : "claimed";
      return { ...none, kind, state: "assigned", agent: person(event.agent), by };
    }
    case "bot":
      return { ...none, kind: "returned_to_bot", state: "bot", by: person(event.returned_by) };
    case "resolved":
      return { ...none, kind: "resolved", state: "resolved", by: person(event.resolved_by) };
    default:
      return none;
  }
}

/**
 * The event in an app's words: `wording` maps each kind to a function of the read event that
 * returns the line to show. `line` is null for kinds the app does not word (nothing is shown).
 */
export function describeEvent(event, wording) {
  const read = readEvent(event);
  const say = read.kind && wording[read.kind];
  return { ...read, line: say ? say(read) : null };
}

/** Every agent an event names, e.g. to learn agent names from a transcript. */
export function agentsNamed(event) {
  const read = readEvent(event);
  return [read.agent, read.by].filter(Boolean);
}

function person(p) {
  return p && typeof p.name === "string" ? { id: p.id ?? null, name: p.name } : null;
}
