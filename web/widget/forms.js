// The widget's inline forms: order verification for guests, and the rating once resolved.

import { h } from "../shared/dom.js";
import { MAX_TEXT } from "./api.js";
import { icon } from "./icons.js";

/**
 * The order verification form. `verify({order, email})` resolves to true when verified, to an
 * error message to show, or to false (nothing to say); `onDone()` then removes the form.
 */
export function verifyForm({ verify, onDone, onCancel }) {
  const order = h("input", { name: "order_number", required: true, autocomplete: "off", inputMode: "text", maxLength: 64, spellcheck: "false" });
  const email = h("input", { name: "email", type: "email", required: true, autocomplete: "email", maxLength: 254, spellcheck: "false" });
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const submit = h("button", { class: "btn", type: "submit", text: "Check my order" });
  const showError = (text) => {
    error.textContent = text;
    error.hidden = false;
  };
  const form = h(
    "form",
    {
      class: "card verify",
      "aria-label": "Verify your order",
      onsubmit: async (e) => {
        e.preventDefault();
        const number = order.value.trim();
        const address = email.value.trim();
        if (!number || !address) return showError("Please enter both the order number and the email address.");
        submit.disabled = true;
        error.hidden = true;
        const outcome = await verify({ order: number, email: address });
        submit.disabled = false;
        if (outcome === true) onDone();
        else if (typeof outcome === "string") showError(outcome);
      },
    },
    h("h3", { text: "Find your order" }),
    h("p", { text: "Enter the order number and the email address you used when ordering." }),
    h("label", { class: "field" }, h("span", { text: "Order number" }), order),
    h("label", { class: "field" }, h("span", { text: "Email" }), email),
    error,
    h("div", { class: "actions" }, h("button", { class: "btn secondary", type: "button", text: "Cancel", onclick: onCancel }), submit),
  );
  return form;
}

/**
 * The rating form. `rate(score, comment)` resolves to true once stored; the form then thanks
 * the shopper. `form.dataset.busy` is set while sending and `form.dataset.done` once rated.
 */
export function ratingForm({ rate }) {
  let score = 0;
  const stars = [];
  const submit = h("button", { class: "btn", type: "submit", text: "Send rating", disabled: true });
  const comment = h("textarea", { name: "comment", rows: 2, maxLength: MAX_TEXT, placeholder: "Anything to add? (optional)", "aria-label": "Comment (optional)" });
  const paint = (n) => stars.forEach((s, i) => s.classList.toggle("on", i < n));
  const starRow = h("div", { class: "stars", role: "group", "aria-label": "Rating from 1 to 5 stars" });
  for (let i = 1; i <= 5; i++) {
    const star = h(
      "button",
      {
        class: "star",
        type: "button",
        "aria-label": `${i} star${i > 1 ? "s" : ""}`,
        "aria-pressed": "false",
        "data-score": i,
        onclick: () => {
          score = i;
          stars.forEach((b, j) => b.setAttribute("aria-pressed", String(j + 1 === i)));
          paint(i);
          submit.disabled = false;
        },
        onmouseenter: () => paint(i),
        onmouseleave: () => paint(score),
      },
      icon("star"),
    );
    stars.push(star);
    starRow.append(star);
  }
  const form = h(
    "form",
    {
      class: "card rating",
      "aria-label": "Rate this conversation",
      onsubmit: async (e) => {
        e.preventDefault();
        if (!score) return;
        submit.disabled = true;
        form.dataset.busy = "1";
        const stored = await rate(score, comment.value.trim());
        delete form.dataset.busy;
        if (stored) {
          form.dataset.done = "1";
          form.replaceChildren(h("p", { class: "thanks", role: "status", text: `Thanks! You rated this conversation ${score} out of 5.` }));
        } else {
          submit.disabled = false;
        }
      },
    },
    h("h3", { text: "How did we do?" }),
    h("p", { text: "Rate this conversation. A comment is optional." }),
    starRow,
    comment,
    h("div", { class: "actions" }, submit),
  );
  return form;
}
