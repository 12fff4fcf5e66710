// Which page shows, from the address: #/inbox, #/inbox/<conversation id>, #/admin, and for
// admins #/insights with its window: #/insights/30d, #/insights/<from date>/<to date>.

import { showAdmin } from "./admin.js";
import { openConversation } from "./conversation.js";
import { showInsights } from "./insights.js";
import { $ } from "./page.js";
import { renderQueue } from "./queue.js";
import { state } from "./state.js";

const VIEWS = [
  ["inbox", "#inbox-view", "#nav-inbox", "Inbox"],
  ["insights", "#insights-view", "#nav-insights", "Insights"],
  ["admin", "#admin-view", "#nav-admin", "Admin"],
];

export function initRouter() {
  window.addEventListener("hashchange", () => state.me && route());
}

export function route() {
  const parts = location.hash.replace(/^#\/?/, "").split("/");
  // Pages for admins only fall back to the inbox for everyone else.
  const adminPage = ["admin", "insights"].includes(parts[0]) && state.me.is_admin;
  state.view = adminPage ? parts[0] : "inbox";
  for (const [view, page, link, title] of VIEWS) {
    const on = view === state.view;
    $(page).hidden = !on;
    if (on) $("#view-title").textContent = title;
    if (on) $(link).setAttribute("aria-current", "page");
    else $(link).removeAttribute("aria-current");
  }
  if (state.view === "admin") return showAdmin();
  if (state.view === "insights") return showInsights(parts.slice(1));
  const id = parts[0] === "inbox" && parts[1] ? decodeURIComponent(parts[1]) : null;
  if (id !== state.selected) openConversation(id);
  renderQueue();
}

/** Opens a conversation (`null`: none) through the address, so Back works. */
export function navigateTo(id) {
  const hash = id ? `#/inbox/${encodeURIComponent(id)}` : "#/inbox";
  if (location.hash !== hash) location.hash = hash;
  else route();
}
