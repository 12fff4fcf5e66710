// Page-wide helpers of the console: finding its elements and short notices (toasts).

import { h } from "../shared/dom.js";

export const APP_NAME = "Switchboard";

export const $ = (selector) => document.querySelector(selector);

/** A notice that goes away by itself; `kind` is "info", "ok" or "error". */
export function toast(text, kind = "info") {
  const t = h("div", { class: `toast toast-${kind}`, text });
  $("#toasts").append(t);
  setTimeout(() => t.classList.add("is-leaving"), 4200);
  setTimeout(() => t.remove(), 4600);
}
