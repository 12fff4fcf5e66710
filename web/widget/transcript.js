// The message log: messages in seq order grouped by sender, status lines, quick replies, unsent messages.

import { h } from "../shared/dom.js";
import { initials } from "../shared/initials.js";
import { linkify } from "../shared/links.js";
import { icon } from "./icons.js";

const GROUP_GAP_MS = 5 * 60 * 1000;
const timeFmt = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const dateTimeFmt = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", hour: "numeric", minute: "2-digit" });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "short" });

function shortTime(ms) {
  const d = new Date(ms);
  return d.toDateString() === new Date().toDateString() ? timeFmt.format(d) : dateTimeFmt.format(d);
}

export class Transcript {
  /** `onQuickReply(message, quickReply, button)` runs when the shopper picks a quick reply. */
  constructor(log, { botName, onQuickReply }) {
    this.log = log;
    this.botName = botName;
    this.onQuickReply = onQuickReply;
    this.rendered = new Map(); // seq -> {msg, row, quickReplies}
    this.pendingRows = new Map(); // client_message_id -> row
    this.spent = new Set(); // seqs of messages whose quick replies were used
  }

  clear() {
    this.rendered.clear();
    this.pendingRows.clear();
    this.spent.clear();
    this.log.replaceChildren();
  }

  has(seq) {
    return this.rendered.has(seq);
  }

  get isEmpty() {
    return this.rendered.size === 0;
  }

  /** The highest seq shown, at least `floor`. */
  maxSeq(floor = 0) {
    let max = floor;
    for (const seq of this.rendered.keys()) if (seq > max) max = seq;
    return max;
  }

  /** The seq of the latest event shown (0 when none): older events do not change the state. */
  lastEventSeq() {
    let max = 0;
    for (const [seq, r] of this.rendered) if (r.msg.sender === "event" && seq > max) max = seq;
    return max;
  }

  /** The sender of the latest message that is not the bot's ("shopper", "agent", "event"), or null. */
  lastNonBotSender() {
    let last = null;
    for (const [seq, r] of this.rendered) if (r.msg.sender !== "bot" && (!last || seq > last.seq)) last = r.msg;
    return last ? last.sender : null;
  }

  /** Bot and agent messages after `seenSeq`. */
  unreadAfter(seenSeq) {
    let n = 0;
    for (const [seq, r] of this.rendered) {
      if (seq > seenSeq && (r.msg.sender === "bot" || r.msg.sender === "agent")) n++;
    }
    return n;
  }

  /** A status line for an event message; an event with nothing to say keeps its place, hidden. */
  addStatus(m, line) {
    const row = h("div", { class: "status", "data-seq": m.seq, hidden: !line }, h("span", { text: line || "" }));
    this.insert(m, row);
  }

  /** A bot, agent or shopper message; agent messages are signed with `agentName`. */
  addMessage(m, agentName) {
    const sender = m.sender === "agent" || m.sender === "shopper" ? m.sender : "bot";
    const name = sender === "agent" ? agentName || "Support team" : sender === "bot" ? this.botName : "You";
    const row = h("div", { class: `row ${sender}`, "data-seq": m.seq, "data-sender": sender }, avatar(sender, name));
    const stack = h("div", { class: "stack" });
    if (sender !== "shopper") stack.append(h("div", { class: "sender-name", text: name, "aria-hidden": "true" }));
    stack.append(bubble(sender === "shopper" ? "You said: " : `${name} said: `, String(m.text ?? "")));
    const at = new Date(m.created_at);
    stack.append(h("div", { class: "meta" }, h("time", { text: shortTime(m.created_at), title: fullFmt.format(at), datetime: at.toISOString() })));
    row.append(stack);
    this.insert(m, row);
    if (Array.isArray(m.quick_replies) && m.quick_replies.length) this.addQuickReplies(m, row);
  }

  addQuickReplies(m, row) {
    const group = h("div", { class: "quick-replies", role: "group", "aria-label": "Suggested replies", "data-for": m.seq });
    for (const q of m.quick_replies) {
      if (!q || typeof q.label !== "string") continue;
      group.append(
        h("button", {
          class: "qr",
          type: "button",
          text: q.label,
          "data-value": String(q.value ?? ""),
          onclick: (e) => this.onQuickReply(m, q, e.currentTarget),
        }),
      );
    }
    // Quick replies sit right after their message.
    row.after(group);
    this.rendered.get(m.seq).quickReplies = group;
  }

  /** Inserts a confirmed message at its seq position, before any message still being sent. */
  insert(m, row) {
    this.rendered.set(m.seq, { msg: m, row });
    let before = null;
    for (const child of this.log.children) {
      const s = child.dataset.seq;
      if (s === undefined) {
        if (child.classList.contains("pending") || child.classList.contains("failed")) {
          before = child;
          break;
        }
        continue;
      }
      if (Number(s) > m.seq && !child.classList.contains("quick-replies")) {
        before = child;
        break;
      }
    }
    this.log.insertBefore(row, before);
  }

  /** Marks where avatars, names and times go: on the edges of runs of one sender's messages. */
  regroup() {
    const rows = [...this.log.children].filter((c) => c.classList.contains("row"));
    const together = (a, b) =>
      !!a &&
      !!b &&
      a.dataset.sender === b.dataset.sender &&
      a.nextElementSibling === b && // no status line or quick replies between
      Math.abs(this.timeOf(b) - this.timeOf(a)) < GROUP_GAP_MS;
    rows.forEach((row, i) => {
      row.classList.toggle("group-start", !together(rows[i - 1], row));
      row.classList.toggle("group-end", !together(row, rows[i + 1]));
    });
  }

  timeOf(row) {
    const seq = row.dataset.seq;
    if (seq !== undefined) return this.rendered.get(Number(seq))?.msg.created_at ?? Date.now();
    return Number(row.dataset.created) || Date.now();
  }

  /** Only the latest message's quick replies can be used, if it is the bot's and unused. */
  updateQuickReplies({ sending }) {
    let lastSeq = 0;
    for (const [seq, r] of this.rendered) if (r.msg.sender !== "event" && seq > lastSeq) lastSeq = seq;
    for (const [seq, r] of this.rendered) {
      if (!r.quickReplies) continue;
      r.quickReplies.hidden = !(seq === lastSeq && r.msg.sender === "bot" && !this.spent.has(seq) && !sending);
    }
  }

  /** The quick replies of message `seq` were used (or the form they opened is showing). */
  spendQuickReplies(seq) {
    this.spent.add(seq);
  }

  /** A form opened by a quick reply was cancelled: its quick replies can be used again. */
  restoreQuickReplies() {
    this.spent.clear();
  }

  /**
   * Shows the shopper's unsent messages after the confirmed ones. `actions` has retryNow(),
   * retry(cid) and drop(cid), for the buttons of messages that could not be sent.
   */
  showOutbox(items, actions) {
    for (const item of items) {
      if (item.adopted) continue;
      let row = this.pendingRows.get(item.cid);
      if (!row) {
        row = h(
          "div",
          { class: "row shopper pending group-start group-end", "data-sender": "shopper", "data-created": item.created_at, "data-cid": item.cid },
          h("div", { class: "stack" }, bubble("You said: ", item.text), h("div", { class: "meta" })),
        );
        this.pendingRows.set(item.cid, row);
        this.log.append(row);
      }
      row.classList.toggle("pending", item.status !== "failed");
      row.classList.toggle("failed", item.status === "failed");
      row.querySelector(".meta").replaceChildren(...outboxStatus(item, actions));
    }
    for (const [cid, row] of this.pendingRows) {
      if (!items.some((o) => o.cid === cid && !o.adopted)) this.removePending(cid);
    }
  }

  removePending(cid) {
    this.pendingRows.get(cid)?.remove();
    this.pendingRows.delete(cid);
  }
}

function bubble(spokenPrefix, text) {
  return h("div", { class: "bubble", dir: "auto" }, h("span", { class: "sr-only", text: spokenPrefix }), linkify(text));
}

function avatar(sender, name) {
  if (sender === "shopper") return h("span", { hidden: true });
  if (sender === "agent") return h("div", { class: "avatar agent", "aria-hidden": "true", text: initials(name) });
  return h("div", { class: "avatar", "aria-hidden": "true" }, icon("bot"));
}

function outboxStatus(item, actions) {
  switch (item.status) {
    case "sending":
      return [h("span", { text: "Sending…" })];
    case "retrying":
      return [h("span", { class: "warn", text: "Not sent yet — retrying" }), h("button", { type: "button", text: "Retry now", onclick: () => actions.retryNow() })];
    case "failed":
      return [
        h("span", { class: "warn", text: item.error ? `Not sent: ${item.error}` : "Not sent" }),
        h("button", { type: "button", text: "Try again", onclick: () => actions.retry(item.cid) }),
        h("button", { type: "button", text: "Delete", onclick: () => actions.drop(item.cid) }),
      ];
    default:
      return [];
  }
}
