// Logging in and out: the session check on load, the log-in page, starting the console for an agent.

import { initials } from "../shared/initials.js";
import { api, ApiError, setCsrf, setUnauthorizedHandler } from "./api.js";
import { renderReassign } from "./conversation.js";
import { startLive, stopLive } from "./live.js";
import { $, APP_NAME } from "./page.js";
import { focusQueue, refreshLists } from "./queue.js";
import { route } from "./router.js";
import { unlockAudio } from "./sound.js";
import { learnAgentNames, state } from "./state.js";

const SESSION_ENDED = "Your session has ended. Please log in again.";

export function initSession() {
  setUnauthorizedHandler(() => state.me && showLogin(SESSION_ENDED));
  $("#login-form").addEventListener("submit", logIn);
  $("#logout-btn").addEventListener("click", logOut);
}

/** Shows the console if the browser still has a session, the log-in page otherwise. */
export async function boot() {
  try {
    await start(await api("GET", "/api/v1/agent/me"));
  } catch (e) {
    showLogin(e instanceof ApiError && e.status !== 401 ? e.message : "");
  }
}

/** The page is hidden until it knows what to show (no flash of the wrong view). */
function reveal() {
  document.body.classList.remove("booting");
}

export function showLogin(message) {
  stopLive();
  state.me = null;
  setCsrf("");
  $("#app-view").hidden = true;
  $("#login-view").hidden = false;
  reveal();
  document.title = `Log in · ${APP_NAME}`;
  const err = $("#login-error");
  err.hidden = !message;
  err.textContent = message || "";
  $("#login-password").value = "";
  $("#login-email").focus();
}

async function logIn(ev) {
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
    focusQueue();
  } catch (e) {
    err.textContent =
      e.status === 401 ? "Wrong email or password." : e.status === 429 ? "Too many attempts. Wait a minute and try again." : e.message;
    err.hidden = false;
    $("#login-password").select();
  } finally {
    button.disabled = false;
    button.textContent = "Log in";
  }
}

async function logOut() {
  try {
    await api("POST", "/api/v1/agent/logout");
  } catch {
    /* the session is gone either way */
  }
  state.selected = null;
  state.conv = null;
  history.replaceState(null, "", "#/inbox");
  showLogin("");
}

/** `me`: the answer of /agent/me or /agent/login. */
async function start(me) {
  state.me = me.agent;
  state.online = me.online_agents || 0;
  learnAgentNames([state.me]);
  setCsrf(me.csrf_token);
  $("#login-view").hidden = true;
  $("#app-view").hidden = false;
  reveal();
  document.body.classList.toggle("is-admin", !!state.me.is_admin);
  $("#me-name").textContent = state.me.name;
  $("#me-avatar").textContent = initials(state.me.name);
  $("#nav-admin").hidden = !state.me.is_admin;
  $("#nav-insights").hidden = !state.me.is_admin;
  $("#tab-team").hidden = !state.me.is_admin;
  state.knownQueued = null;
  state.unseen.clear();
  try {
    const { intents } = await api("GET", "/api/v1/agent/intents");
    state.intents = new Map(intents.map((i) => [i.name, i.label]));
  } catch {
    /* labels fall back to names */
  }
  if (state.me.is_admin) loadAgentNames();
  startLive();
  await refreshLists();
  route();
}

/** Admins can reassign to any agent: learn every name up front. */
async function loadAgentNames() {
  try {
    const { agents } = await api("GET", "/api/v1/admin/agents");
    learnAgentNames(agents);
    renderReassign();
  } catch {
    /* names are a nicety */
  }
}
