// Live updates while logged in: the event stream, connection banner, agents online, hand-off alerts.

import { h } from "../shared/dom.js";
import { showAdmin } from "./admin.js";
import { api, openStream } from "./api.js";
import { refreshConversation, reloadConversation } from "./conversation.js";
import { $, APP_NAME } from "./page.js";
import { refreshLists, scheduleListRefresh } from "./queue.js";
import { showLogin } from "./session.js";
import { beep } from "./sound.js";
import { state, stats } from "./state.js";

export function startLive() {
  stopLive();
  state.streamDropped = false;
  state.stream = openStream({
    onOpen() {
      if (state.streamDropped) {
        state.streamDropped = false;
        banner("ok", "Connected again. Everything is up to date.");
        refreshAll();
      } else {
        banner(null);
      }
      showOnline();
    },
    onDrop() {
      if (!state.streamDropped) {
        state.streamDropped = true;
        banner("down", "Reconnecting… Live updates are paused; the console catches up as soon as the connection is back.");
      }
    },
    onEvent(name, data) {
      if (name === "conversation") onConversationChanged(data);
      else if (name === "resync") refreshAll();
    },
    onLoggedOut() {
      showLogin("Your session has ended. Please log in again.");
    },
  });
}

export function stopLive() {
  if (state.stream) state.stream.stop();
  state.stream = null;
  banner(null);
}

let bannerTimer = null;
/** The connection banner: "down" (reconnecting), "ok" (back, hides itself) or null (none). */
function banner(kind, text) {
  const el = $("#banner");
  clearTimeout(bannerTimer);
  if (!kind) {
    el.hidden = true;
    el.className = "banner";
    return;
  }
  el.className = `banner banner-${kind}`;
  el.replaceChildren(h("span", { class: "banner-dot", "aria-hidden": "true" }), h("span", { text }));
  el.hidden = false;
  if (kind === "ok") bannerTimer = setTimeout(() => banner(null), 5000);
}

async function showOnline() {
  try {
    const me = await api("GET", "/api/v1/agent/me");
    state.online = me.online_agents || 0;
  } catch {
    /* keep the old number */
  }
  const el = $("#online");
  el.textContent = `${state.online} online`;
  el.classList.toggle("is-live", !state.streamDropped);
}

/** A conversation changed (`{conversation_id, state, ...}`): refresh what shows it. */
function onConversationChanged(d) {
  const id = d.conversation_id;
  if (d.state === "queued" && state.knownQueued && !state.knownQueued.has(id)) {
    state.knownQueued.add(id);
    if (state.suppress.has(id)) state.suppress.delete(id);
    else handoffArrived(id);
  }
  if (d.state !== "queued") state.unseen.delete(id);
  scheduleListRefresh();
  if (id === state.selected) refreshConversation();
  updateTitle();
}

function handoffArrived(id) {
  stats.handoffs += 1;
  if (id !== state.selected || document.hidden) state.unseen.add(id);
  beep();
  updateTitle();
}

/** "(2) Switchboard" for two hand-offs not opened yet; the Inbox link counts the queue. */
export function updateTitle() {
  const n = state.unseen.size;
  document.title = (n ? `(${n}) ` : "") + APP_NAME;
  const badge = $("#nav-queued-count");
  badge.hidden = !state.lists.queued.length;
  badge.textContent = String(state.lists.queued.length);
}

/** Reads everything again (after a reconnect or when the server asks to resync). */
async function refreshAll() {
  await refreshLists();
  if (state.selected) await reloadConversation();
  if (state.view === "admin") showAdmin();
}
