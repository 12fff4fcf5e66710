// Keyboard shortcuts of the inbox (j/k, c, e, r, n, l, ...) and the help dialog listing them.

import { focusComposer } from "./composer.js";
import { actions } from "./conversation.js";
import { closeCustomerDrawer } from "./customer.js";
import { $ } from "./page.js";
import { moveInQueue, setTab } from "./queue.js";
import { state } from "./state.js";
import { labelLastShopperMessage } from "./transcript.js";

export function initShortcuts() {
  $("#help-btn").addEventListener("click", () => $("#help-dialog").showModal());
  document.addEventListener("keydown", onKey);
}

function onKey(e) {
  if (!state.me || e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target;
  // Typing in a field, or a dialog open: the keys are theirs.
  if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
  if (document.querySelector("dialog[open]")) return;
  if (e.key === "Escape" && document.body.classList.contains("show-customer")) {
    closeCustomerDrawer();
    return;
  }
  if (e.key === "?") {
    e.preventDefault();
    $("#help-dialog").showModal();
    return;
  }
  if (state.view !== "inbox") return;
  const inQueue = t === $("#queue-list");
  const handlers = {
    j: () => moveInQueue(1),
    k: () => moveInQueue(-1),
    ArrowDown: () => inQueue && moveInQueue(1),
    ArrowUp: () => inQueue && moveInQueue(-1),
    1: () => setTab("queued"),
    2: () => setTab("mine"),
    3: () => setTab("resolved"),
    c: actions.claim,
    e: actions.resolve,
    E: () => e.shiftKey && actions.resolveLearning(),
    R: () => e.shiftKey && actions.release(),
    b: actions.bot,
    r: () => focusComposer("reply"),
    n: () => focusComposer("note"),
    l: labelLastShopperMessage,
  };
  const handler = handlers[e.key];
  if (handler && handler() !== false) e.preventDefault();
}
