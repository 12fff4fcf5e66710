// Messages on their way to the server: kept in localStorage, sent in order, retried with the same id.

import { backoff } from "../shared/backoff.js";
import { HttpError, retryable } from "./api.js";

function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export class Outbox {
  /** `chat` is the widget (chat.js): the conversation, the views, the busy indicator. */
  constructor(chat) {
    this.chat = chat;
    this.store = chat.store;
    this.running = false;
    this.timer = null; // a retry is scheduled
    this.attempt = 0;
  }

  get items() {
    return this.store.data.outbox;
  }

  /** Messages still waiting for the server (not failed, not already seen coming back). */
  get sending() {
    return this.items.some((o) => !o.adopted && o.status !== "failed");
  }

  send(text, quickReply) {
    this.items.push({ cid: uuid(), text, quick_reply: quickReply || null, created_at: Date.now(), status: "sending" });
    this.store.save();
    this.show();
    this.chat.updateQuickReplies();
    this.chat.panel.scrollToEnd(true);
    this.run();
  }

  show() {
    this.chat.transcript.showOutbox(this.items, {
      retryNow: () => this.chat.retryNow(),
      retry: (cid) => this.retry(cid),
      drop: (cid) => this.drop(cid),
    });
  }

  retry(cid) {
    const item = this.items.find((o) => o.cid === cid);
    if (!item) return;
    item.status = "sending";
    item.error = null;
    this.store.save();
    this.show();
    this.run();
  }

  drop(cid) {
    this.store.data.outbox = this.items.filter((o) => o.cid !== cid);
    this.store.save();
    this.show();
    this.chat.updateQuickReplies();
  }

  /**
   * A shopper message from the server may be one of ours still marked "sending" (its answer
   * was lost, or it came over the stream first): show the server's copy only.
   */
  adopt(message) {
    const item = this.items.find((o) => !o.adopted && o.status !== "failed" && o.text === message.text);
    if (!item) return;
    item.adopted = message.seq;
    this.store.save();
    this.chat.transcript.removePending(item.cid);
  }

  /** Cancels a scheduled retry; `fresh` also forgets the failed attempts so far. */
  wake(fresh) {
    clearTimeout(this.timer);
    this.timer = null;
    if (fresh) this.attempt = 0;
  }

  /** Stops for a cleared view (a reset, another conversation). */
  halt() {
    clearTimeout(this.timer);
    this.timer = null;
    this.running = false;
    this.attempt = 0;
  }

  /** Sends the waiting messages in order, unless already sending or waiting to retry. */
  async run() {
    if (this.running || this.timer) return;
    this.running = true;
    const chat = this.chat;
    const gen = chat.generation;
    try {
      while (gen === chat.generation) {
        const item = this.items.find((o) => o.status !== "failed");
        if (!item) break;
        if (!(await chat.ensureConversation())) return this.retryLater(gen);
        if (gen !== chat.generation) return;
        chat.busy(+1);
        try {
          const body = { text: item.text, client_message_id: item.cid };
          if (item.quick_reply) body.quick_reply = item.quick_reply;
          const r = await chat.api.call("POST", chat.api.conversationPath("/messages"), body);
          if (gen !== chat.generation) return;
          this.store.data.outbox = this.items.filter((o) => o.cid !== item.cid);
          this.store.save();
          this.attempt = 0;
          chat.panel.clearBanner();
          this.show();
          chat.applyConversation(r);
          chat.ingest([r.message, ...(r.replies || [])].filter(Boolean));
        } catch (e) {
          if (gen !== chat.generation) return;
          if (retryable(e)) return this.retryLater(gen);
          if (e instanceof HttpError && e.conversationGone) {
            // The token is no longer valid: a new conversation takes the waiting messages.
            chat.startOver(this.items.map((o) => ({ ...o, adopted: undefined })));
            return;
          }
          if (item.adopted) {
            // The server has it already (it came back over the stream).
            this.store.data.outbox = this.items.filter((o) => o.cid !== item.cid);
            this.store.save();
            continue;
          }
          item.status = "failed";
          item.error = e.message;
          this.store.save();
          this.show();
        } finally {
          if (gen === chat.generation) chat.busy(-1);
        }
      }
    } finally {
      if (gen === chat.generation) this.running = false;
      chat.updateQuickReplies();
    }
  }

  /** The network is away: marks the messages "retrying" and tries again after a growing wait. */
  retryLater(gen) {
    for (const o of this.items) if (o.status === "sending") o.status = "retrying";
    this.store.save();
    this.show();
    this.running = false;
    this.chat.panel.setBanner("Connection lost. Messages will be sent when we're back.", { retry: true });
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (gen === this.chat.generation) this.run();
    }, backoff(this.attempt++, 1000, 30000));
  }
}
