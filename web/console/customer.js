// The customer pane (a drawer on narrow screens): identity, conversation facts, recent orders.

import { clear, h } from "../shared/dom.js";
import { initials } from "../shared/initials.js";
import { safeHttpUrl } from "../shared/links.js";
import { stateChip } from "./chips.js";
import { fmtDate, fmtMoney, fmtTime, humanize } from "./format.js";
import { $ } from "./page.js";
import { intentLabel } from "./state.js";
import { reasonLabel } from "./wording.js";

export function renderCustomerPlaceholder() {
  clear($("#customer-pane")).append(h("div", { class: "empty" }, h("p", { class: "muted", text: "The customer and their orders show here." })));
}

export function toggleCustomerDrawer() {
  setDrawer(!document.body.classList.contains("show-customer"));
}

export function closeCustomerDrawer() {
  setDrawer(false);
}

function setDrawer(open) {
  document.body.classList.toggle("show-customer", open);
  $("#customer-toggle").setAttribute("aria-expanded", String(open));
}

export function renderCustomer(conv) {
  const pane = clear($("#customer-pane"));
  pane.append(
    h("div", { class: "drawer-head" }, h("span", { text: "Customer" }), h("button", { type: "button", class: "icon-btn", "aria-label": "Close the customer pane", text: "×", onclick: closeCustomerDrawer })),
    identityCard(conv),
    factsCard(conv),
    ordersCard(conv),
  );
}

function identityCard(conv) {
  const card = h("section", { class: "card cust-card" });
  const c = conv.customer;
  if (c) {
    card.append(
      h(
        "div",
        { class: "cust-head" },
        h("div", { class: "avatar avatar-lg", "aria-hidden": "true", text: initials(c.name || c.email) }),
        h("div", {}, h("div", { class: "cust-name", text: c.name || "Customer" }), h("div", { class: "cust-email", text: c.email || "" })),
      ),
      h("div", { class: "chips" }, h("span", { class: "chip chip-verified", text: conv.verified_via === "token" ? "Signed in on the store" : "Verified" }), h("span", { class: "chip mono", text: c.id })),
    );
    if (conv.contact_email) card.append(h("p", { class: "small muted" }, "Contact email: ", h("span", { text: conv.contact_email })));
    return card;
  }
  const verifiedByOrder = !!conv.verified_via;
  card.append(
    h(
      "div",
      { class: "cust-head" },
      h("div", { class: "avatar avatar-lg avatar-guest", "aria-hidden": "true", text: "?" }),
      h("div", {}, h("div", { class: "cust-name", text: verifiedByOrder ? "Guest" : "Guest, not verified" }), conv.contact_email ? h("div", { class: "cust-email", text: conv.contact_email }) : null),
    ),
    h(
      "div",
      { class: "chips" },
      verifiedByOrder
        ? h("span", { class: "chip chip-verified", text: `Verified with an order (${humanize(conv.verified_via)})` })
        : h("span", { class: "chip chip-guest", text: "Identity not verified: don't share order details" }),
    ),
  );
  return card;
}

function factsCard(conv) {
  const facts = h("dl", { class: "facts" });
  const fact = (name, value) => value && facts.append(h("dt", { text: name }), h("dd", {}, value));
  fact("Status", stateChip(conv));
  fact("Reason", conv.reason ? reasonLabel(conv.reason) : null);
  fact("Model's guess", conv.intent ? intentLabel(conv.intent) : null);
  fact("Queued", conv.queued_at ? `${fmtDate(conv.queued_at)}, ${fmtTime(conv.queued_at)}` : null);
  if (conv.rating != null) {
    fact("Rating", h("span", { class: "stars", "aria-label": `${conv.rating} out of 5`, text: "★".repeat(conv.rating) + "☆".repeat(5 - conv.rating) }));
  }
  fact("Conversation", h("span", { class: "mono small", text: conv.conversation_id }));
  return h("section", { class: "card" }, h("h3", { text: "Conversation" }), facts);
}

function ordersCard(conv) {
  const card = h("section", { class: "card" }, h("h3", {}, "Recent orders ", h("span", { class: "count", text: String(conv.orders.length) })));
  if (!conv.orders.length) {
    card.append(h("p", { class: "muted small", text: conv.customer || conv.verified_via ? "No orders on file." : "Orders show once the shopper is verified." }));
  }
  // The order the bot attached comes first, then the newest.
  const attached = conv.attached_order;
  const sorted = [...conv.orders].sort((a, b) => (a.number === attached ? -1 : b.number === attached ? 1 : b.placed_at - a.placed_at));
  for (const o of sorted) card.append(orderEl(o, o.number === attached));
  return card;
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
