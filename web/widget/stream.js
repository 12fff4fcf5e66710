// The conversation's live stream: new messages as they happen, resumed after a drop (Last-Event-ID).

import { backoff } from "../shared/backoff.js";
import { sseEvents } from "../shared/sse.js";
import { HttpError } from "./api.js";

export class LiveStream {
  /**
   * `onMessage(message)` for each message event; `onTrouble(text)` shows how the connection
   * is doing, `onTrouble(null)` once it is fine again.
   */
  constructor(api, store, { onMessage, onTrouble }) {
    this.api = api;
    this.store = store;
    this.onMessage = onMessage;
    this.onTrouble = onTrouble;
    this.controller = null; // the open stream's, null when there is none
    this.timer = null; // a reconnect is scheduled
    this.idleTimer = null; // a stop is scheduled (see release)
    this.attempt = 0;
  }

  get running() {
    return this.controller !== null;
  }

  /** Open, or about to reconnect. */
  get active() {
    return this.controller !== null || this.timer !== null;
  }

  /** Keeps the stream: calls off a scheduled stop, opens it unless open or about to reconnect. */
  keep() {
    clearTimeout(this.idleTimer);
    this.idleTimer = null;
    if (!this.active) this.start();
  }

  /** Stops the stream after `graceMs` unless kept meanwhile (a burst of messages is not cut). */
  release(graceMs) {
    if (this.idleTimer || !this.active) return;
    this.idleTimer = setTimeout(() => this.stop(), graceMs);
  }

  start() {
    if (!this.store.data.conversation_id || this.controller) return;
    clearTimeout(this.timer);
    this.timer = null;
    const controller = new AbortController();
    this.controller = controller;
    this.read(controller)
      .then((how) => this.ended(controller, how))
      .catch((e) => this.ended(controller, e && e.name === "AbortError" ? "aborted" : e));
  }

  stop() {
    clearTimeout(this.timer);
    clearTimeout(this.idleTimer);
    this.timer = null;
    this.idleTimer = null;
    if (this.controller) this.controller.abort();
    this.controller = null;
  }

  /** Starts again at once, forgetting earlier failures (the network is back, the tab visible). */
  restart() {
    if (this.controller) return;
    this.attempt = 0;
    this.start();
  }

  /** Reads until the stream ends: "closed" (by the server), "reconnect" (asked to), "aborted". */
  async read(controller) {
    const body = await this.api.openStream(this.store.data.last_seq, controller.signal);
    this.attempt = 0;
    this.onTrouble(null);
    for await (const ev of sseEvents(body)) {
      if (this.controller !== controller) return "aborted";
      if (ev.event === "reconnect") return "reconnect";
      if (ev.event !== "message" || !ev.data) continue;
      let message;
      try {
        message = JSON.parse(ev.data);
      } catch {
        continue; // a malformed event is skipped
      }
      this.onMessage(message);
    }
    return "closed";
  }

  ended(controller, how) {
    if (this.controller !== controller) return; // stopped, or replaced by a newer stream
    this.controller = null;
    if (how === "aborted") return;
    if (how instanceof HttpError && how.conversationGone) return; // nothing to resume
    // The server asks streams to reconnect when it restarts or rebalances: come back soon, spread out.
    const delay = how === "reconnect" ? 1000 + Math.random() * 2000 : backoff(this.attempt++, 1000, 30000);
    if (how !== "reconnect" && this.attempt > 2) this.onTrouble("Reconnecting…");
    this.timer = setTimeout(() => {
      this.timer = null;
      this.start();
    }, delay);
  }
}
