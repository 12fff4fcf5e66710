// Which page shows, from the address: #/inbox, #/inbox/<conversation id>, #/admin.

import { showAdmin } from "./admin.js";
import { openConversation } from "./conversation.js";
import { $ } from "./page.js";
import { renderQueue } from "./queue.js";
import { state } from "./state.js";

export function initRouter() {
  window.addEventListener("hashchange", () => state.me && route());
}

export function route() {
  const parts = location.hash.replace(/^#\/?/, "").split("/");
  const admin = parts[0] === "admin" && state.me.is_admin;
  state.view = admin ? "admin" : "inbox";
  $("#inbox-view").hidden = admin;
  $("#admin-view").hidden = !admin;
  $("#view-title").textContent = admin ? "Admin" : "Inbox";
  for (const [link, view] of [
    ["#nav-inbox", "inbox"],
    ["#nav-admin", "admin"],
  ]) {
    if (view === state.view) $(link).setAttribute("aria-current", "page");
    else $(link).removeAttribute("aria-current");
  }
  if (admin) return showAdmin();
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
