// Switchboard agent console: log-in, the live queue, the conversation, the customer, labels,
// and the admin pages. Plain module, no build step, no dependencies.
//
// Every text that comes from a shopper, an agent or the order data goes into the page through
// textContent / text nodes, never as HTML.

import { api, ApiError, openStream, setCsrf, setUnauthorizedHandler } from "./api.js";
import { h, $, clear, initials, fmtAgo, fmtWait, fmtTime, fmtDate, fmtMoney, humanize, safeHttpUrl, textWithLinks, eventText } from "./ui.js";
import { initAdmin, showAdmin } from "./admin.js";

const TITLE = "Switchboard";
const PRIORITY = ["Low", "Normal", "High", "Urgent"];
const REASONS = {
  sensitive: "Sensitive topic",
  low_confidence: "Bot unsure",
  ambiguous: "Ambiguous question",
  customer_requested: "Asked for a person",
  handler_error: "Bot error",
  verification_failed: "Verification failed",
  released: "Released by an agent",
};

const S = {
  me: null,
  online: 0,
  intents: new Map(), // name -> label
  tab: "queued",
  lists: { queued: [], assigned: [], resolved: [] },
  fetchedAt: 0,
  selected: null, // conversation id
  conv: null, // the open conversation's view
  lastSeq: 0,
  mode: "reply",
  knownQueued: null, // ids seen in the queue (null until the first load)
  unseen: new Set(), // hand-offs that arrived live and were not opened yet
  suppress: new Set(), // conversations this agent just put back in the queue
  names: new Map(), // conversation id -> customer name, once seen
  agentNames: new Map(), // agent id -> name
  labelled: new Map(), // message id -> intent
  stream: null,
  streamDropped: false,
  view: "inbox",
};
window.SwitchboardConsole = { stats: { beeps: 0, handoffs: 0 } };

// ---------------------------------------------------------------------------------------------
// Boot, log-in, log-out

const loginView = $("#login-view");
const appView = $("#app-view");

setUnauthorizedHandler(() => {
  if (S.me) showLogin("Your session has ended. Please log in again.");
});

async function boot() {
  try {
    const me = await api("GET", "/api/v1/agent/me");
    await start(me);
  } catch (e) {
    showLogin(e instanceof ApiError && e.status !== 401 ? e.message : "");
  } finally {
    document.body.classList.remove("booting");
  }
}

function showLogin(message) {
  stopStream();
  S.me = null;
  setCsrf("");
  appView.hidden = true;
  loginView.hidden = false;
  document.title = `Log in · ${TITLE}`;
  const err = $("#login-error");
  err.hidden = !message;
  err.textContent = message || "";
  $("#login-password").value = "";
  $(S.me ? "#login-password" : "#login-email").focus();
}

$("#login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  unlockAudio();
  const email = $("#login-email").value.trim();
  const password = $("#login-password").value;
  const err = $("#login-error");
  const button = $("#login-submit");
  if (!email || !password) {
    err.textContent = "Enter your email and password.";
    err.hidden = false;
    return;
  }
  button.disabled = true;
  button.textContent = "Logging in…";
  try {
    const res = await api("POST", "/api/v1/agent/login", { email, password });
    err.hidden = true;
    $("#login-password").value = "";
    await start(res);
  } catch (e) {
    err.textContent =
      e.status === 401 ? "Wrong email or password." : e.status === 429 ? "Too many attempts. Wait a minute and try again." : e.message;
    err.hidden = false;
    $("#login-password").select();
  } finally {
    button.disabled = false;
    button.textContent = "Log in";
  }
});

$("#logout-btn").addEventListener("click", async () => {
  try {
    await api("POST", "/api/v1/agent/logout");
  } catch {
    /* the session is gone either way */
  }
  S.selected = null;
  S.conv = null;
  history.replaceState(null, "", "#/inbox");
  showLogin("");
});

async function start(me) {
  S.me = me.agent;
  S.online = me.online_agents || 0;
  S.agentNames.set(S.me.id, S.me.name);
  setCsrf(me.csrf_token);
  loginView.hidden = true;
  appView.hidden = false;
  document.body.classList.toggle("is-admin", !!S.me.is_admin);
  $("#me-name").textContent = S.me.name;
  $("#me-avatar").textContent = initials(S.me.name);
  $("#nav-admin").hidden = !S.me.is_admin;
  $("#tab-team").hidden = !S.me.is_admin;
  S.knownQueued = null;
  S.unseen.clear();
  try {
    const { intents } = await api("GET", "/api/v1/agent/intents");
    S.intents = new Map(intents.map((i) => [i.name, i.label]));
  } catch {
    /* labels fall back to names */
  }
  if (S.me.is_admin) loadAgentNames();
  startStream();
  await refreshLists();
  route();
}

async function loadAgentNames() {
  try {
    const { agents } = await api("GET", "/api/v1/admin/agents");
    for (const a of agents) S.agentNames.set(a.id, a.name);
    renderReassign();
  } catch {
    /* names are a nicety */
  }
}
export function agentNamesChanged(agents) {
  for (const a of agents) S.agentNames.set(a.id, a.name);
}

// ---------------------------------------------------------------------------------------------
// Routing: #/inbox, #/inbox/<conversation id>, #/admin

window.addEventListener("hashchange", () => S.me && route());

function route() {
  const parts = location.hash.replace(/^#\/?/, "").split("/");
  if (parts[0] === "admin" && S.me.is_admin) {
    S.view = "admin";
    $("#inbox-view").hidden = true;
    $("#admin-view").hidden = false;
    setNav("admin");
    showAdmin();
    return;
  }
  S.view = "inbox";
  $("#admin-view").hidden = true;
  $("#inbox-view").hidden = false;
  setNav("inbox");
  const id = parts[0] === "inbox" && parts[1] ? decodeURIComponent(parts[1]) : null;
  if (id !== S.selected) openConversation(id, { fromRoute: true });
  renderQueue();
}

function setNav(which) {
  for (const [id, name] of [
    ["#nav-inbox", "inbox"],
    ["#nav-admin", "admin"],
  ]) {
    const el = $(id);
    if (name === which) el.setAttribute("aria-current", "page");
    else el.removeAttribute("aria-current");
  }
}

// ---------------------------------------------------------------------------------------------
// Live stream, connection banner, hand-off alerts

function startStream() {
  stopStream();
  S.streamDropped = false;
  S.stream = openStream({
    onOpen() {
      if (S.streamDropped) {
        S.streamDropped = false;
        banner("ok", "Connected again. Everything is up to date.");
        refreshAll();
      } else {
        banner(null);
      }
      setOnline();
    },
    onDrop() {
      if (!S.streamDropped) {
        S.streamDropped = true;
        banner("down", "Reconnecting… Live updates are paused; the console catches up as soon as the connection is back.");
      }
    },
    onEvent(name, data) {
      if (name === "conversation") onConversationHint(data);
      else if (name === "resync") refreshAll();
    },
    onLoggedOut() {
      showLogin("Your session has ended. Please log in again.");
    },
  });
}

function stopStream() {
  if (S.stream) S.stream.stop();
  S.stream = null;
  banner(null);
}

let bannerTimer = null;
function banner(kind, text) {
  const el = $("#banner");
  clearTimeout(bannerTimer);
  if (!kind) {
    el.hidden = true;
    el.className = "banner";
    return;
  }
  el.className = `banner banner-${kind}`;
  clear(el).append(h("span", { class: "banner-dot", "aria-hidden": "true" }), h("span", { text }));
  el.hidden = false;
  if (kind === "ok") bannerTimer = setTimeout(() => banner(null), 5000);
}

async function setOnline() {
  try {
    const me = await api("GET", "/api/v1/agent/me");
    S.online = me.online_agents || 0;
  } catch {
    /* keep the old number */
  }
  const el = $("#online");
  el.textContent = `${S.online} online`;
  el.classList.toggle("is-live", !S.streamDropped);
}

function onConversationHint(d) {
  const id = d.conversation_id;
  if (d.state === "queued" && S.knownQueued && !S.knownQueued.has(id)) {
    S.knownQueued.add(id);
    if (S.suppress.has(id)) S.suppress.delete(id);
    else handoffArrived(id);
  }
  if (d.state !== "queued") S.unseen.delete(id);
  scheduleListRefresh();
  if (id === S.selected) refreshConversation();
  updateTitle();
}

function handoffArrived(id) {
  window.SwitchboardConsole.stats.handoffs += 1;
  if (id !== S.selected || document.hidden) S.unseen.add(id);
  beep();
  updateTitle();
}

function updateTitle() {
  const n = S.unseen.size;
  document.title = (n ? `(${n}) ` : "") + TITLE;
  const badge = $("#nav-queued-count");
  badge.hidden = !S.lists.queued.length;
  badge.textContent = String(S.lists.queued.length);
}

// WebAudio beep (no audio file). Browsers only allow sound after a user gesture: the context
// is created on the first click or key press.
let audio = null;
let soundOn = localStorage.getItem("switchboard:console:sound") !== "off";
function unlockAudio() {
  try {
    if (!audio) {
      const AC = window.AudioContext || window.webkitAudioContext;
      if (AC) audio = new AC();
    }
    if (audio && audio.state === "suspended") audio.resume().catch(() => {});
  } catch {
    audio = null;
  }
}
document.addEventListener("pointerdown", unlockAudio, { capture: true });
document.addEventListener("keydown", unlockAudio, { capture: true });

function beep() {
  if (!soundOn) return;
  window.SwitchboardConsole.stats.beeps += 1;
  if (!audio) return;
  try {
    const t = audio.currentTime + 0.01;
    for (const [freq, at] of [
      [880, 0],
      [1318.5, 0.14],
    ]) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.type = "sine";
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, t + at);
      gain.gain.exponentialRampToValueAtTime(0.18, t + at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + at + 0.22);
      osc.connect(gain).connect(audio.destination);
      osc.start(t + at);
      osc.stop(t + at + 0.25);
    }
  } catch {
    /* no sound, no harm */
  }
}

function renderSoundToggle() {
  const b = $("#sound-toggle");
  b.setAttribute("aria-pressed", String(soundOn));
  b.setAttribute("aria-label", soundOn ? "Sound on for new hand-offs" : "Sound off for new hand-offs");
  b.title = soundOn ? "Sound on for new hand-offs (click to mute)" : "Sound off (click to turn on)";
  clear(b).append(soundIcon(soundOn));
}
$("#sound-toggle").addEventListener("click", () => {
  soundOn = !soundOn;
  localStorage.setItem("switchboard:console:sound", soundOn ? "on" : "off");
  renderSoundToggle();
  if (soundOn) {
    unlockAudio();
    const was = window.SwitchboardConsole.stats.beeps;
    beep();
    window.SwitchboardConsole.stats.beeps = was;
  }
});

function soundIcon(on) {
  const NS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", "icon");
  const paths = on
    ? ["M4 9v6h4l5 4V5L8 9H4z", "M16 8.5a5 5 0 0 1 0 7", "M18.5 6a8.5 8.5 0 0 1 0 12"]
    : ["M4 9v6h4l5 4V5L8 9H4z", "M17 9l5 6", "M22 9l-5 6"];
  for (const d of paths) {
    const p = document.createElementNS(NS, "path");
    p.setAttribute("d", d);
    svg.append(p);
  }
  return svg;
}

// ---------------------------------------------------------------------------------------------
// The queue

let listTimer = null;
function scheduleListRefresh() {
  clearTimeout(listTimer);
  listTimer = setTimeout(refreshLists, 120);
}

let listsInFlight = null;
async function refreshLists() {
  if (!S.me) return;
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
        const [q, a, r] = await Promise.all(
          ["queued", "assigned", "resolved"].map((st) => api("GET", `/api/v1/agent/conversations?state=${st}`)),
        );
        S.lists = { queued: q.conversations, assigned: a.conversations, resolved: r.conversations };
        S.fetchedAt = performance.now();
        const ids = new Set(S.lists.queued.map((c) => c.conversation_id));
        if (S.knownQueued) for (const id of ids) S.knownQueued.add(id);
        else S.knownQueued = ids;
        for (const id of [...S.knownQueued]) if (!ids.has(id)) S.knownQueued.delete(id);
        for (const id of [...S.unseen]) if (!ids.has(id)) S.unseen.delete(id);
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

function currentList() {
  const mine = (c) => c.assigned_agent === S.me.id;
  switch (S.tab) {
    case "mine":
      return S.lists.assigned.filter(mine);
    case "team":
      return S.lists.assigned.filter((c) => !mine(c));
    case "resolved":
      return S.lists.resolved;
    default:
      return S.lists.queued;
  }
}

function setTab(tab) {
  if (tab === "team" && !S.me.is_admin) return;
  S.tab = tab;
  for (const t of document.querySelectorAll(".tab")) t.setAttribute("aria-selected", String(t.dataset.tab === tab));
  renderQueue();
}
for (const t of document.querySelectorAll(".tab")) t.addEventListener("click", () => setTab(t.dataset.tab));

function renderQueue() {
  if (!S.me) return;
  const list = $("#queue-list");
  const items = currentList();
  const counts = {
    queued: S.lists.queued.length,
    mine: S.lists.assigned.filter((c) => c.assigned_agent === S.me.id).length,
    team: S.lists.assigned.filter((c) => c.assigned_agent !== S.me.id).length,
  };
  for (const el of document.querySelectorAll("[data-count]")) {
    const n = counts[el.dataset.count];
    el.textContent = n ? String(n) : "";
  }
  clear(list);
  for (const c of items) list.append(queueRow(c));
  const empty = $("#queue-empty");
  empty.hidden = items.length > 0;
  if (!items.length) {
    const texts = {
      queued: ["Nobody is waiting", "New hand-offs from the bot appear here, with a sound."],
      mine: ["Nothing assigned to you", "Claim a conversation from the queue to answer it."],
      team: ["Nobody else has a conversation open", ""],
      resolved: ["No resolved conversations yet", ""],
    }[S.tab];
    clear(empty).append(h("p", { class: "empty-title", text: texts[0] }), texts[1] ? h("p", { class: "muted", text: texts[1] }) : null);
  }
  tick();
}

function queueRow(c) {
  const id = c.conversation_id;
  const pri = Math.max(0, Math.min(3, c.priority ?? 1));
  const name = S.names.get(id) || (c.verified ? "Verified shopper" : "Guest");
  const guess = c.intent ? S.intents.get(c.intent) || humanize(c.intent) : null;
  const waitEl = h("span", { class: "wait", "data-wait": "" });
  if (c.state === "queued") {
    waitEl.dataset.base = String(c.waiting_ms ?? 0);
    waitEl.dataset.at = String(S.fetchedAt);
    waitEl.title = "Waiting for a person";
  } else {
    waitEl.dataset.updated = String(c.updated_at);
    waitEl.title = "Last activity";
  }
  const li = h(
    "li",
    {
      class: `qrow prio-${pri}` + (S.unseen.has(id) ? " is-new" : "") + (id === S.selected ? " is-selected" : ""),
      role: "option",
      "aria-selected": String(id === S.selected),
      "data-id": id,
      tabindex: "-1",
      onclick: () => navigateTo(id),
    },
    h(
      "div",
      { class: "qrow-top" },
      h("span", { class: "qname", text: name }),
      c.verified ? h("span", { class: "chip chip-verified", text: "Verified", title: "Identity verified" }) : h("span", { class: "chip chip-guest", text: "Not verified" }),
      waitEl,
    ),
    h(
      "div",
      { class: "qrow-tags" },
      c.state === "queued" || pri >= 2 ? h("span", { class: `prio prio-badge-${pri}`, text: PRIORITY[pri] }) : null,
      c.reason ? h("span", { class: "reason", text: REASONS[c.reason] || humanize(c.reason) }) : null,
      guess ? h("span", { class: "guess", title: "The model's guess", text: guess }) : null,
      c.attached_order ? h("span", { class: "order-ref", text: `#${c.attached_order}` }) : null,
    ),
    h("div", { class: "qrow-preview", dir: "auto", text: c.last_message || "…" }),
  );
  return li;
}

function tick() {
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
setInterval(tick, 1000);
// A slow safety net next to the stream.
setInterval(() => S.me && !document.hidden && refreshLists(), 60000);

function navigateTo(id) {
  const hash = id ? `#/inbox/${encodeURIComponent(id)}` : "#/inbox";
  if (location.hash !== hash) location.hash = hash;
  else route();
}

function moveInQueue(delta) {
  const items = currentList();
  if (!items.length) return;
  let i = items.findIndex((c) => c.conversation_id === S.selected);
  i = i < 0 ? (delta > 0 ? 0 : items.length - 1) : Math.max(0, Math.min(items.length - 1, i + delta));
  navigateTo(items[i].conversation_id);
}

// ---------------------------------------------------------------------------------------------
// The conversation

async function openConversation(id, { fromRoute = false } = {}) {
  S.selected = id;
  S.conv = null;
  S.lastSeq = 0;
  document.body.classList.toggle("has-conv", !!id);
  document.body.classList.remove("show-customer");
  $("#conv-empty").hidden = !!id;
  $("#conv").hidden = !id;
  const log = clear($("#transcript"));
  delete log.dataset.day;
  clear($("#customer-pane"));
  if (!id) {
    renderCustomerPlaceholder();
    renderQueue();
    return;
  }
  S.unseen.delete(id);
  updateTitle();
  for (const row of document.querySelectorAll(".qrow")) {
    const on = row.dataset.id === id;
    row.classList.toggle("is-selected", on);
    row.setAttribute("aria-selected", String(on));
    if (on) {
      row.classList.remove("is-new");
      row.scrollIntoView({ block: "nearest" });
    }
  }
  $("#conv-name").textContent = S.names.get(id) || "Loading…";
  clear($("#conv-meta"));
  setComposerError("");
  await refreshConversation();
  if (fromRoute && S.conv && S.conv.state === "assigned" && S.conv.assigned_agent === S.me.id) {
    /* keep focus where it is; r focuses the reply box */
  }
}

let convRun = null;
async function refreshConversation() {
  const id = S.selected;
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
        const view = await api("GET", `/api/v1/agent/conversations/${encodeURIComponent(id)}?after=${S.lastSeq}`);
        if (S.selected !== id) break;
        applyConversation(view);
      } catch (e) {
        if (S.selected !== id) break;
        if (e.status === 403 || e.status === 404) {
          showConvProblem(e.status === 404 ? "This conversation does not exist." : "This conversation is assigned to another agent.");
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

function showConvProblem(text) {
  $("#conv-name").textContent = "Not available";
  clear($("#conv-meta"));
  clear($("#transcript")).append(h("div", { class: "empty" }, h("p", { class: "empty-title", text })));
  renderActions(null);
  renderComposer(null);
}

function customerName(v) {
  if (v.customer && v.customer.name) return v.customer.name;
  if (v.customer && v.customer.email) return v.customer.email;
  return "Guest";
}

function applyConversation(v) {
  const first = !S.conv;
  const fresh = v.messages.filter((m) => m.seq > S.lastSeq).sort((a, b) => a.seq - b.seq);
  const messages = first ? fresh : S.conv.messages.concat(fresh);
  S.conv = { ...v, messages };
  if (fresh.length) S.lastSeq = fresh[fresh.length - 1].seq;
  const name = customerName(v);
  S.names.set(v.conversation_id, name);
  for (const m of messages) {
    const a = /^state:assigned:(.+)$/.exec(m.sender === "event" ? m.text : "");
    if (a && v.assigned_agent && !S.agentNames.has(v.assigned_agent) && m === lastAssignedEvent(messages)) S.agentNames.set(v.assigned_agent, a[1]);
  }
  $("#conv-name").textContent = name;
  renderConvMeta();
  renderActions(S.conv);
  renderComposer(S.conv);
  renderCustomer(S.conv);
  appendMessages(fresh, first);
  const row = document.querySelector(`.qrow[data-id="${CSS.escape(v.conversation_id)}"] .qname`);
  if (row) row.textContent = name;
}

function lastAssignedEvent(messages) {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i].sender === "event" && messages[i].text.startsWith("state:assigned:")) return messages[i];
  return null;
}

function stateChip(v) {
  const mine = v.assigned_agent === S.me.id;
  const label =
    v.state === "assigned"
      ? mine
        ? "Assigned to you"
        : `Assigned to ${S.agentNames.get(v.assigned_agent) || "another agent"}`
      : { queued: "Waiting in queue", resolved: "Resolved", bot: "With the bot" }[v.state] || humanize(v.state);
  return h("span", { class: `state state-${v.state}${mine ? " state-mine" : ""}`, text: label });
}

function renderConvMeta() {
  const v = S.conv;
  const meta = clear($("#conv-meta"));
  meta.append(stateChip(v));
  if (v.priority != null && v.state === "queued") {
    const p = Math.max(0, Math.min(3, v.priority));
    meta.append(h("span", { class: `prio prio-badge-${p}`, text: PRIORITY[p] }));
  }
  if (v.reason) meta.append(h("span", { class: "reason", text: REASONS[v.reason] || humanize(v.reason) }));
  if (v.intent) meta.append(h("span", { class: "guess", title: "The model's guess", text: S.intents.get(v.intent) || humanize(v.intent) }));
  if (v.state === "queued" && v.queued_at) {
    const w = h("span", { class: "wait", "data-wait": "", title: "Waiting for a person" });
    // queued_at is the server's clock; the queue list's waiting_ms avoids clock skew.
    const entry = S.lists.queued.find((c) => c.conversation_id === v.conversation_id);
    w.dataset.base = String(entry ? entry.waiting_ms ?? 0 : Math.max(0, Date.now() - v.queued_at));
    w.dataset.at = String(entry ? S.fetchedAt : performance.now());
    meta.append(w);
  }
  tick();
}

function renderActions(v) {
  const show = (id, on) => ($(id).hidden = !on);
  const mine = v && v.state === "assigned" && (v.assigned_agent === S.me.id || S.me.is_admin);
  show("#act-claim", v && v.state === "queued");
  show("#act-resolve", mine);
  show("#act-release", mine);
  show("#act-bot", mine);
  $("#act-reassign").hidden = !(v && S.me.is_admin && v.state === "assigned");
  if (v && S.me.is_admin) renderReassign();
}

function renderReassign() {
  const sel = $("#act-reassign");
  if (!S.conv || !S.me || !S.me.is_admin) return;
  clear(sel).append(h("option", { value: "", text: "Reassign to…" }));
  for (const [id, name] of S.agentNames) {
    if (id === S.conv.assigned_agent) continue;
    sel.append(h("option", { value: id, text: id === S.me.id ? `${name} (you)` : name }));
  }
  sel.value = "";
}
$("#act-reassign").addEventListener("change", async (e) => {
  const to = e.target.value;
  if (!to || !S.conv) return;
  await act("reassign", { agent_id: to }, `Reassigned to ${S.agentNames.get(to) || "another agent"}`);
});

function renderComposer(v) {
  const form = $("#composer");
  const input = $("#composer-input");
  const canWrite = !!v && v.state === "assigned" && (v.assigned_agent === S.me.id || S.me.is_admin);
  form.classList.toggle("is-disabled", !canWrite);
  input.disabled = !canWrite;
  $("#composer-send").disabled = !canWrite;
  $("#mode-reply").disabled = !canWrite;
  $("#mode-note").disabled = !canWrite;
  const cta = $("#composer-cta");
  const ctaText = { queued: "This shopper is waiting for a person.", resolved: "This conversation is resolved; the shopper was asked for a rating.", bot: "The bot is handling this conversation." }[v && v.state];
  const othersOnly = v && v.state === "assigned" && !canWrite;
  form.hidden = !canWrite;
  cta.hidden = canWrite || !v;
  $("#composer-cta-text").textContent = othersOnly ? "Another agent is answering this conversation." : ctaText || "";
  $("#cta-claim").hidden = !(v && v.state === "queued");
  const hint = $("#composer-hint");
  if (!v) hint.textContent = "";
  else if (canWrite) hint.textContent = S.mode === "note" ? "Only agents see notes · Enter to save" : "Enter to send · Shift+Enter for a new line";
  else if (v.state === "queued") hint.textContent = "Claim the conversation (c) to reply";
  else if (v.state === "resolved") hint.textContent = "Resolved: the shopper was asked for a rating";
  else if (v.state === "bot") hint.textContent = "The bot is handling this conversation";
  else hint.textContent = "Assigned to another agent";
  input.placeholder = !canWrite ? "" : S.mode === "note" ? "Write a private note for the team…" : "Reply to the shopper…";
}

function setMode(mode) {
  S.mode = mode;
  $("#mode-reply").setAttribute("aria-checked", String(mode === "reply"));
  $("#mode-note").setAttribute("aria-checked", String(mode === "note"));
  $("#composer").classList.toggle("is-note", mode === "note");
  $("#composer-send").textContent = mode === "note" ? "Add note" : "Send";
  renderComposer(S.conv);
}
$("#mode-reply").addEventListener("click", () => {
  setMode("reply");
  $("#composer-input").focus();
});
$("#mode-note").addEventListener("click", () => {
  setMode(S.mode === "note" ? "reply" : "note");
  $("#composer-input").focus();
});

function setComposerError(text) {
  const el = $("#composer-error");
  el.hidden = !text;
  el.textContent = text || "";
}

let sending = false;
async function send() {
  const input = $("#composer-input");
  const text = input.value.trim();
  if (!text || sending || !S.conv || input.disabled) return;
  sending = true;
  $("#composer-send").disabled = true;
  const id = S.conv.conversation_id;
  try {
    await api("POST", `/api/v1/agent/conversations/${encodeURIComponent(id)}/${S.mode === "note" ? "notes" : "messages"}`, { text });
    input.value = "";
    setComposerError("");
    if (S.mode === "note") setMode("reply");
    await refreshConversation();
  } catch (e) {
    setComposerError(e.status === 409 || e.status === 403 ? `${e.message}.` : `Not sent: ${e.message}`);
    refreshConversation();
  } finally {
    sending = false;
    renderComposer(S.conv);
    input.focus();
  }
}
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

async function act(action, body, done) {
  if (!S.conv) return;
  const id = S.conv.conversation_id;
  if (action === "release") S.suppress.add(id);
  try {
    await api("POST", `/api/v1/agent/conversations/${encodeURIComponent(id)}/${action}`, body);
    toast(done, "ok");
  } catch (e) {
    S.suppress.delete(id);
    toast(e.status === 409 && action === "claim" ? "Someone else already claimed this conversation." : e.message, "error");
  }
  await Promise.all([refreshConversation(), refreshLists()]);
  if (action === "claim" && S.conv && S.conv.assigned_agent === S.me.id) {
    setMode("reply");
    $("#composer-input").focus();
  }
}
const actions = {
  claim: () => S.conv && S.conv.state === "queued" && act("claim", undefined, "Claimed: the shopper sees that you joined."),
  resolve: () => canAct() && act("resolve", undefined, "Resolved. The shopper is asked for a rating."),
  release: () => canAct() && act("release", undefined, "Released back to the queue."),
  bot: () => canAct() && act("return-to-bot", undefined, "Handed back to the bot."),
};
function canAct() {
  return S.conv && S.conv.state === "assigned" && (S.conv.assigned_agent === S.me.id || S.me.is_admin);
}
$("#act-claim").addEventListener("click", actions.claim);
$("#cta-claim").addEventListener("click", actions.claim);
$("#act-resolve").addEventListener("click", actions.resolve);
$("#act-release").addEventListener("click", actions.release);
$("#act-bot").addEventListener("click", actions.bot);
$("#back-btn").addEventListener("click", () => navigateTo(null));
$("#customer-toggle").addEventListener("click", () => {
  const on = !document.body.classList.contains("show-customer");
  document.body.classList.toggle("show-customer", on);
  $("#customer-toggle").setAttribute("aria-expanded", String(on));
});

// Transcript ---------------------------------------------------------------------------------

function appendMessages(messages, first) {
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
  if (first || nearBottom || messages.some((m) => m.agent_id === S.me.id)) log.scrollTop = log.scrollHeight;
}

function messageEl(m) {
  const time = h("time", { class: "time", dateTime: new Date(m.created_at).toISOString(), text: fmtTime(m.created_at), title: new Date(m.created_at).toLocaleString() });
  if (m.sender === "event") {
    return h("div", { class: "event", "data-seq": m.seq, role: "note" }, h("span", { class: "event-text", text: eventText(m.text, REASONS) }), time);
  }
  if (m.sender === "note") {
    const who = m.agent_id === S.me.id ? "You" : S.agentNames.get(m.agent_id) || "An agent";
    return h(
      "div",
      { class: "msg note", "data-seq": m.seq },
      h("div", { class: "note-head" }, h("span", { class: "note-tag", text: "Private note" }), h("span", { class: "who", text: who }), time),
      h("div", { class: "note-body", dir: "auto", text: m.text }),
    );
  }
  if (m.sender === "shopper") {
    const name = S.conv ? customerName(S.conv) : "Shopper";
    const meta = h("div", { class: "meta" }, h("span", { class: "who", text: name === "Guest" ? "Shopper" : name }), time);
    const bubble = h("div", { class: "bubble", dir: "auto", text: m.text });
    const foot = h("div", { class: "msg-foot" });
    if (m.triage && m.triage.intents && m.triage.intents.length) {
      const top = m.triage.intents[0];
      const detail = m.triage.intents
        .slice(0, 3)
        .map((i) => `${S.intents.get(i.intent) || i.intent}: ${Math.round(i.confidence * 100)}%`)
        .join("\n");
      const pct = Math.round(top.confidence * 100);
      foot.append(
        h(
          "span",
          {
            class: `triage conf-${pct >= 80 ? "high" : pct >= 50 ? "mid" : "low"}`,
            title: `${detail}\nDecision: ${m.triage.decision} (${humanize(m.triage.reason || "")})\nModel ${m.triage.model_version || ""}`,
          },
          h("span", { class: "triage-intent", text: S.intents.get(top.intent) || humanize(top.intent) }),
          h("span", { class: "triage-conf", text: `${pct}%` }),
          m.triage.decision && !["answer", "none"].includes(m.triage.decision) ? h("span", { class: "triage-decision", text: humanize(m.triage.decision) }) : null,
        ),
      );
    }
    const labelled = S.labelled.get(m.id);
    foot.append(
      labelled
        ? h("span", { class: "labelled", text: `Labelled: ${S.intents.get(labelled) || labelled}` })
        : h("button", { type: "button", class: "label-btn", text: "Label", title: "Label the intent of this message (l)", onclick: () => openLabel(m) }),
    );
    return h("div", { class: "msg shopper", "data-seq": m.seq, "data-id": m.id }, h("div", { class: "avatar", "aria-hidden": "true", text: initials(name) }), h("div", { class: "msg-col" }, meta, bubble, foot));
  }
  // bot or agent
  const isAgent = m.sender === "agent";
  const who = isAgent ? (m.agent_id === S.me.id ? "You" : S.agentNames.get(m.agent_id) || "Agent") : "Bot";
  const bubble = h("div", { class: "bubble", dir: "auto" }, ...textWithLinks(m.text));
  const col = h("div", { class: "msg-col" }, h("div", { class: "meta" }, h("span", { class: "who", text: who }), time), bubble);
  if (m.quick_replies && m.quick_replies.length) {
    col.append(h("div", { class: "qr-list", "aria-label": "Offered quick replies" }, ...m.quick_replies.map((q) => h("span", { class: "qr", text: q.label }))));
  }
  return h(
    "div",
    { class: `msg ${isAgent ? "agent" : "bot"}`, "data-seq": m.seq },
    col,
    h("div", { class: `avatar ${isAgent ? "" : "avatar-bot"}`, "aria-hidden": "true", text: isAgent ? initials(who === "You" ? S.me.name : who) : "B" }),
  );
}

// Customer pane --------------------------------------------------------------------------------

function renderCustomerPlaceholder() {
  clear($("#customer-pane")).append(h("div", { class: "empty" }, h("p", { class: "muted", text: "The customer and their orders show here." })));
}

function closeCustomerDrawer() {
  document.body.classList.remove("show-customer");
  $("#customer-toggle").setAttribute("aria-expanded", "false");
}

function renderCustomer(v) {
  const pane = clear($("#customer-pane"));
  pane.append(h("div", { class: "drawer-head" }, h("span", { text: "Customer" }), h("button", { type: "button", class: "icon-btn", "aria-label": "Close the customer pane", text: "×", onclick: closeCustomerDrawer })));
  const card = h("section", { class: "card cust-card" });
  if (v.customer) {
    card.append(
      h("div", { class: "cust-head" }, h("div", { class: "avatar avatar-lg", "aria-hidden": "true", text: initials(v.customer.name || v.customer.email) }), h("div", {}, h("div", { class: "cust-name", text: v.customer.name || "Customer" }), h("div", { class: "cust-email", text: v.customer.email || "" }))),
      h("div", { class: "chips" }, h("span", { class: "chip chip-verified", text: v.verified_via === "token" ? "Signed in on the store" : "Verified" }), h("span", { class: "chip mono", text: v.customer.id })),
    );
  } else {
    const verifiedByOrder = !!v.verified_via;
    card.append(
      h("div", { class: "cust-head" }, h("div", { class: "avatar avatar-lg avatar-guest", "aria-hidden": "true", text: "?" }), h("div", {}, h("div", { class: "cust-name", text: verifiedByOrder ? "Guest" : "Guest, not verified" }), v.contact_email ? h("div", { class: "cust-email", text: v.contact_email }) : null)),
      h("div", { class: "chips" }, verifiedByOrder ? h("span", { class: "chip chip-verified", text: `Verified with an order (${humanize(v.verified_via)})` }) : h("span", { class: "chip chip-guest", text: "Identity not verified: don't share order details" })),
    );
  }
  if (v.contact_email && v.customer) card.append(h("p", { class: "small muted" }, "Contact email: ", h("span", { text: v.contact_email })));
  pane.append(card);

  const facts = h("dl", { class: "facts" });
  const fact = (k, val) => val && facts.append(h("dt", { text: k }), h("dd", {}, val));
  fact("Status", stateChip(v));
  fact("Reason", v.reason ? REASONS[v.reason] || humanize(v.reason) : null);
  fact("Model's guess", v.intent ? S.intents.get(v.intent) || humanize(v.intent) : null);
  fact("Queued", v.queued_at ? `${fmtDate(v.queued_at)}, ${fmtTime(v.queued_at)}` : null);
  if (v.rating != null) fact("Rating", h("span", { class: "stars", "aria-label": `${v.rating} out of 5`, text: "★".repeat(v.rating) + "☆".repeat(5 - v.rating) }));
  fact("Conversation", h("span", { class: "mono small", text: v.conversation_id }));
  pane.append(h("section", { class: "card" }, h("h3", { text: "Conversation" }), facts));

  const orders = h("section", { class: "card" }, h("h3", {}, "Recent orders ", h("span", { class: "count", text: String(v.orders.length) })));
  if (!v.orders.length) orders.append(h("p", { class: "muted small", text: v.customer || v.verified_via ? "No orders on file." : "Orders show once the shopper is verified." }));
  const sorted = [...v.orders].sort((a, b) => (a.number === v.attached_order ? -1 : b.number === v.attached_order ? 1 : b.placed_at - a.placed_at));
  for (const o of sorted) orders.append(orderEl(o, o.number === v.attached_order));
  pane.append(orders);
}

function orderEl(o, attached) {
  const el = h(
    "article",
    { class: `order${attached ? " is-attached" : ""}`, "data-order": o.number },
    h(
      "div",
      { class: "order-head" },
      h("span", { class: "order-no", text: `#${o.number}` }),
      attached ? h("span", { class: "chip chip-attached", text: "Attached by the bot" }) : null,
      h("span", { class: `ostatus os-${String(o.status).replace(/[^a-z_]/g, "")}`, text: humanize(o.status) }),
    ),
    h("div", { class: "order-sub" }, h("span", { text: `Placed ${fmtDate(o.placed_at)}` }), h("span", { class: "order-total", text: fmtMoney(o.total_cents, o.currency) })),
  );
  const items = h("ul", { class: "items" });
  for (const it of o.items || []) items.append(h("li", {}, h("span", { class: "qty", text: `${it.quantity} ×` }), h("span", { class: "iname", text: it.name })));
  el.append(items);
  for (const s of o.shipments || []) {
    const url = safeHttpUrl(s.tracking_url);
    el.append(
      h(
        "div",
        { class: "ship" },
        h("span", { class: "ship-carrier", text: s.carrier }),
        url ? h("a", { href: url, target: "_blank", rel: "noopener noreferrer", text: s.tracking_number || "Track" }) : h("span", { class: "mono", text: s.tracking_number || "" }),
        h("span", { class: "ship-status", text: humanize(s.status) }),
        s.estimated_delivery && !s.delivered_at ? h("span", { class: "muted", text: `ETA ${fmtDate(s.estimated_delivery)}` }) : null,
      ),
    );
  }
  for (const r of o.refunds || []) {
    el.append(h("div", { class: "refund" }, h("span", { text: `Refund ${fmtMoney(r.amount_cents, o.currency)}` }), h("span", { class: "ship-status", text: humanize(r.status) }), r.reason ? h("span", { class: "muted", text: r.reason }) : null));
  }
  return el;
}

// ---------------------------------------------------------------------------------------------
// Label dialog

const labelDialog = $("#label-dialog");
let labelTarget = null;
let labelActive = 0;
let labelChoice = null;

function openLabel(m) {
  labelTarget = m;
  labelChoice = null;
  $("#label-quote").textContent = m.text;
  const top = m.triage && m.triage.intents && m.triage.intents[0];
  $("#label-guess").textContent = top ? `The model guessed “${S.intents.get(top.intent) || top.intent}” (${Math.round(top.confidence * 100)}%). Pick what the shopper really meant.` : "Pick what the shopper really meant.";
  $("#label-search").value = "";
  $("#label-error").hidden = true;
  $("#label-submit").disabled = true;
  renderLabelList();
  labelDialog.showModal();
  $("#label-search").focus();
}

function filteredIntents() {
  const q = $("#label-search").value.trim().toLowerCase();
  const all = [...S.intents].map(([name, label]) => ({ name, label }));
  if (!q) return all;
  return all.filter((i) => i.label.toLowerCase().includes(q) || i.name.toLowerCase().includes(q) || i.name.replace(/_/g, " ").includes(q));
}

function renderLabelList() {
  const list = clear($("#label-list"));
  const items = filteredIntents();
  labelActive = Math.max(0, Math.min(labelActive, items.length - 1));
  items.forEach((i, idx) => {
    const selected = labelChoice === i.name;
    list.append(
      h(
        "li",
        {
          role: "option",
          id: `intent-opt-${i.name}`,
          class: "label-opt" + (idx === labelActive ? " is-active" : "") + (selected ? " is-chosen" : ""),
          "aria-selected": String(selected),
          "data-intent": i.name,
          onclick: () => chooseLabel(i.name),
          ondblclick: () => {
            chooseLabel(i.name);
            submitLabel();
          },
        },
        h("span", { class: "opt-label", text: i.label }),
        h("span", { class: "opt-name", text: i.name }),
      ),
    );
  });
  if (!items.length) list.append(h("li", { class: "label-none", text: "No intent matches." }));
  const active = items[labelActive];
  $("#label-search").setAttribute("aria-activedescendant", active ? `intent-opt-${active.name}` : "");
  const el = list.querySelector(".is-active");
  if (el) el.scrollIntoView({ block: "nearest" });
}

function chooseLabel(name) {
  labelChoice = name;
  const items = filteredIntents();
  labelActive = Math.max(0, items.findIndex((i) => i.name === name));
  $("#label-submit").disabled = false;
  renderLabelList();
}

$("#label-search").addEventListener("input", () => {
  labelActive = 0;
  renderLabelList();
});
$("#label-search").addEventListener("keydown", (e) => {
  const items = filteredIntents();
  if (e.key === "ArrowDown" || e.key === "ArrowUp") {
    e.preventDefault();
    labelActive = Math.max(0, Math.min(items.length - 1, labelActive + (e.key === "ArrowDown" ? 1 : -1)));
    renderLabelList();
  } else if (e.key === "Enter") {
    e.preventDefault();
    const it = items[labelActive];
    if (!it) return;
    if (labelChoice === it.name) submitLabel();
    else chooseLabel(it.name);
  }
});
labelDialog.addEventListener("keydown", (e) => {
  if (e.key === "/" && document.activeElement !== $("#label-search")) {
    e.preventDefault();
    $("#label-search").focus();
  }
});
$("#label-cancel").addEventListener("click", () => labelDialog.close());
$("#label-form").addEventListener("submit", (e) => {
  e.preventDefault();
  submitLabel();
});

async function submitLabel() {
  if (!labelTarget || !labelChoice) return;
  const m = labelTarget;
  const intent = labelChoice;
  $("#label-submit").disabled = true;
  try {
    await api("POST", `/api/v1/agent/messages/${encodeURIComponent(m.id)}/label`, { intent });
    S.labelled.set(m.id, intent);
    labelDialog.close();
    toast(`Labelled as “${S.intents.get(intent) || intent}”: waiting for an admin's review.`, "ok");
    const old = document.querySelector(`.msg[data-id="${CSS.escape(m.id)}"]`);
    if (old) old.replaceWith(messageEl(m));
  } catch (e) {
    const err = $("#label-error");
    err.textContent = e.message;
    err.hidden = false;
    $("#label-submit").disabled = false;
  }
}

// ---------------------------------------------------------------------------------------------
// Keyboard shortcuts and help

const helpDialog = $("#help-dialog");
$("#help-btn").addEventListener("click", () => helpDialog.showModal());

document.addEventListener("keydown", (e) => {
  if (!S.me || e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target;
  if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
  if (document.querySelector("dialog[open]")) return;
  if (e.key === "Escape" && document.body.classList.contains("show-customer")) {
    closeCustomerDrawer();
    return;
  }
  if (e.key === "?") {
    e.preventDefault();
    helpDialog.showModal();
    return;
  }
  if (S.view !== "inbox") return;
  const k = e.key;
  const handlers = {
    j: () => moveInQueue(1),
    k: () => moveInQueue(-1),
    ArrowDown: () => t === $("#queue-list") && moveInQueue(1),
    ArrowUp: () => t === $("#queue-list") && moveInQueue(-1),
    1: () => setTab("queued"),
    2: () => setTab("mine"),
    3: () => setTab("resolved"),
    c: actions.claim,
    e: actions.resolve,
    R: () => e.shiftKey && actions.release(),
    b: actions.bot,
    r: () => focusComposer("reply"),
    n: () => focusComposer("note"),
    l: () => {
      const last = S.conv && [...S.conv.messages].reverse().find((m) => m.sender === "shopper");
      if (last) openLabel(last);
    },
  };
  const fn = handlers[k];
  if (!fn) return;
  const r = fn();
  if (r !== false) e.preventDefault();
});

function focusComposer(mode) {
  if (!S.conv) return;
  setMode(mode);
  const input = $("#composer-input");
  if (!input.disabled) input.focus();
  else toast(S.conv.state === "queued" ? "Claim the conversation first (c)." : "This conversation is not open with you.", "info");
}

// ---------------------------------------------------------------------------------------------
// Toasts

export function toast(text, kind = "info") {
  const box = $("#toasts");
  const t = h("div", { class: `toast toast-${kind}`, text });
  box.append(t);
  setTimeout(() => t.classList.add("is-leaving"), 4200);
  setTimeout(() => t.remove(), 4600);
}

export async function refreshAll() {
  await refreshLists();
  if (S.selected) {
    // A resync may follow missed events: read the open conversation from the start again.
    S.conv = null;
    S.lastSeq = 0;
    delete clear($("#transcript")).dataset.day;
    await refreshConversation();
  }
  if (S.view === "admin") showAdmin();
}

export function me() {
  return S.me;
}
export function intentLabel(name) {
  return S.intents.get(name) || name;
}

renderSoundToggle();
initAdmin({ toast, me, intentLabel, agentNamesChanged });
boot();
