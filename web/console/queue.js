// The queue pane: lists, tabs and rows, ticking waiting times, moving through them (click, j/k, arrows).

import { clear, h } from "../shared/dom.js";
import { api } from "./api.js";
import { guessChip, priorityChip, reasonChip } from "./chips.js";
import { fmtAgo, fmtWait } from "./format.js";
import { updateTitle } from "./live.js";
import { $ } from "./page.js";
import { navigateTo } from "./router.js";
import { isMe, state } from "./state.js";
import { isPressing, priorityOf } from "./wording.js";

const EMPTY_TEXTS = {
  queued: ["Nobody is waiting", "New hand-offs from the bot appear here, with a sound."],
  mine: ["Nothing assigned to you", "Claim a conversation from the queue to answer it."],
  team: ["Nobody else has a conversation open", ""],
  resolved: ["No resolved conversations yet", ""],
};

export function initQueue() {
  for (const t of document.querySelectorAll(".tab")) t.addEventListener("click", () => setTab(t.dataset.tab));
  setInterval(tick, 1000);
  // A slow safety net next to the stream.
  setInterval(() => state.me && !document.hidden && refreshLists(), 60000);
}

let listTimer = null;
/** Refreshes the lists soon, once for a burst of changes. */
export function scheduleListRefresh() {
  clearTimeout(listTimer);
  listTimer = setTimeout(refreshLists, 120);
}

let listsInFlight = null;
export async function refreshLists() {
  if (!state.me) return;
  if (listsInFlight) {
    // One more round after the current one, so no change is missed.
    listsInFlight.again = true;
    return listsInFlight.promise;
  }
  const run = { again: false };
  run.promise = (async () => {
    do {
      run.again = false;
      try {
        const [queued, assigned, resolved] = await Promise.all(
          ["queued", "assigned", "resolved"].map((st) => api("GET", `/api/v1/agent/conversations?state=${st}`)),
        );
        state.lists = { queued: queued.conversations, assigned: assigned.conversations, resolved: resolved.conversations };
        state.fetchedAt = performance.now();
        const ids = new Set(state.lists.queued.map((c) => c.conversation_id));
        if (state.knownQueued) for (const id of ids) state.knownQueued.add(id);
        else state.knownQueued = ids;
        for (const id of [...state.knownQueued]) if (!ids.has(id)) state.knownQueued.delete(id);
        for (const id of [...state.unseen]) if (!ids.has(id)) state.unseen.delete(id);
      } catch (e) {
        if (e.status === 401) return;
      }
    } while (run.again);
    listsInFlight = null;
    renderQueue();
    updateTitle();
  })();
  listsInFlight = run;
  return run.promise;
}

/** The queue entry of a conversation, if it is waiting. */
export function queuedEntry(id) {
  return state.lists.queued.find((c) => c.conversation_id === id);
}

function currentList() {
  const mine = (c) => isMe(c.assigned_agent);
  switch (state.tab) {
    case "mine":
      return state.lists.assigned.filter(mine);
    case "team":
      return state.lists.assigned.filter((c) => !mine(c));
    case "resolved":
      return state.lists.resolved;
    default:
      return state.lists.queued;
  }
}

export function setTab(tab) {
  if (tab === "team" && !state.me.is_admin) return;
  state.tab = tab;
  for (const t of document.querySelectorAll(".tab")) t.setAttribute("aria-selected", String(t.dataset.tab === tab));
  renderQueue();
}

export function renderQueue() {
  if (!state.me) return;
  const list = clear($("#queue-list"));
  const items = currentList();
  const counts = {
    queued: state.lists.queued.length,
    mine: state.lists.assigned.filter((c) => isMe(c.assigned_agent)).length,
    team: state.lists.assigned.filter((c) => !isMe(c.assigned_agent)).length,
  };
  for (const el of document.querySelectorAll("[data-count]")) {
    const n = counts[el.dataset.count];
    el.textContent = n ? String(n) : "";
  }
  for (const c of items) list.append(queueRow(c));
  markSelected(state.selected);
  const empty = $("#queue-empty");
  empty.hidden = items.length > 0;
  if (!items.length) {
    const [title, hint] = EMPTY_TEXTS[state.tab];
    clear(empty).append(h("p", { class: "empty-title", text: title }), hint ? h("p", { class: "muted", text: hint }) : null);
  }
  tick();
}

function queueRow(c) {
  const id = c.conversation_id;
  const priority = priorityOf(c);
  const wait = h("span", { class: "wait", "data-wait": "" });
  if (c.state === "queued") {
    Object.assign(wait.dataset, { base: String(c.waiting_ms ?? 0), at: String(state.fetchedAt) });
    wait.title = "Waiting for a person";
  } else {
    wait.dataset.updated = String(c.updated_at);
    wait.title = "Last activity";
  }
  const verified = c.verified
    ? h("span", { class: "chip chip-verified", text: "Verified", title: "Identity verified" })
    : h("span", { class: "chip chip-guest", text: "Not verified" });
  return h(
    "li",
    {
      class: `qrow prio-${priority}` + (state.unseen.has(id) ? " is-new" : ""),
      id: `queue-row-${id}`,
      role: "option",
      "aria-selected": "false",
      "data-id": id,
      tabindex: "-1",
      onclick: () => navigateTo(id),
    },
    h("div", { class: "qrow-top" }, h("span", { class: "qname", text: state.customerNames.get(id) || (c.verified ? "Verified shopper" : "Guest") }), verified, wait),
    h(
      "div",
      { class: "qrow-tags" },
      c.state === "queued" || isPressing(priority) ? priorityChip(priority) : null,
      c.reason ? reasonChip(c.reason) : null,
      c.intent ? guessChip(c.intent) : null,
      c.attached_order ? h("span", { class: "order-ref", text: `#${c.attached_order}` }) : null,
    ),
    h("div", { class: "qrow-preview", dir: "auto", text: c.last_message || "…" }),
  );
}

/**
 * Highlights the open conversation's row (the list's active option for screen readers);
 * `reveal` scrolls the list to it.
 */
export function markSelected(id, { reveal = false } = {}) {
  const list = $("#queue-list");
  let active = null;
  for (const row of list.querySelectorAll(".qrow")) {
    const on = row.dataset.id === id;
    row.classList.toggle("is-selected", on);
    row.setAttribute("aria-selected", String(on));
    if (on) active = row;
  }
  if (active) {
    active.classList.remove("is-new");
    if (reveal) active.scrollIntoView({ block: "nearest" });
    list.setAttribute("aria-activedescendant", active.id);
  } else {
    list.removeAttribute("aria-activedescendant");
  }
}

/** Puts the keyboard in the queue (or, where the queue is not shown, the open conversation). */
export function focusQueue() {
  const list = $("#queue-list");
  if (list.offsetParent !== null) list.focus();
  else $("#transcript").focus();
}

/** Updates every waiting time and "last activity" shown. */
export function tick() {
  const now = performance.now();
  for (const el of document.querySelectorAll("[data-wait]")) {
    if (el.dataset.base != null) {
      const ms = Number(el.dataset.base) + (now - Number(el.dataset.at));
      el.textContent = fmtWait(ms);
      el.classList.toggle("wait-long", ms > 5 * 60000);
    } else if (el.dataset.updated) {
      el.textContent = fmtAgo(Number(el.dataset.updated));
    }
  }
}

export function moveInQueue(delta) {
  const items = currentList();
  if (!items.length) return;
  let i = items.findIndex((c) => c.conversation_id === state.selected);
  i = i < 0 ? (delta > 0 ? 0 : items.length - 1) : Math.max(0, Math.min(items.length - 1, i + delta));
  navigateTo(items[i].conversation_id);
}
