// The widget's conversation: start or resume it, take in each message once, its state, the shopper's actions.

import { backoff } from "../shared/backoff.js";
import { describeEvent } from "../shared/conversation-events.js";
import { HttpError, ShopperApi, retryable } from "./api.js";
import { ratingForm, verifyForm } from "./forms.js";
import { Outbox } from "./outbox.js";
import { Panel } from "./panel.js";
import { ConversationStore, customerKey } from "./storage.js";
import { LiveStream } from "./stream.js";
import { Transcript } from "./transcript.js";

/** Conversation events in the shopper's words: how the agent came or why does not matter here. */
const inQueue = () => "You're in the queue for a person";
const joined = (e) => `${e.agent?.name || "Someone from our team"} joined the conversation`;
const SHOPPER_WORDING = {
  handoff: inQueue,
  released: inQueue,
  claimed: joined,
  auto_assigned: joined,
  reassigned: joined,
  returned_to_bot: () => "You're back with the assistant",
  resolved: () => "Conversation resolved",
  bot_confirmed: () => "Conversation resolved",
  bot_assumed: () => "Conversation resolved",
};
const UNREACHABLE = "Can't reach the chat right now.";
/** How long the stream stays once nothing needs it: a burst of agent messages is not cut. */
const STREAM_GRACE_MS = 5000;

export class Chat {
  constructor(cfg) {
    this.cfg = cfg;
    this.state = "bot";
    this.rating = null;
    this.agentName = null;
    this.isOpen = false;
    this.inFlight = 0; // requests the shopper waits for: the typing dots show meanwhile
    this.starting = null; // the conversation being created
    this.generation = 0; // bumped when the view is cleared: late answers of the old one are dropped
    this.historyAttempt = 0;
    this.historyTimer = null;
    this.loaded = false; // the conversation's history is shown: the stream may resume after last_seq
    this.verifyCard = null;
    this.ratingCard = null;
    this.store = new ConversationStore(cfg.server);
    this.api = new ShopperApi(cfg.server, this.store);
    this.panel = new Panel(cfg, {
      toggle: () => (this.isOpen ? this.close() : this.open()),
      close: () => this.close(),
      handoff: () => this.requestHandoff(),
      retry: () => this.retryNow(),
      send: (text) => this.outbox.send(text),
    });
    const botName = `${cfg.title.replace(/^Chat with us$/, "")} Assistant`.trim();
    this.transcript = new Transcript(this.panel.log, { botName, onQuickReply: (m, q, button) => this.onQuickReply(m, q, button) });
    this.outbox = new Outbox(this);
    this.stream = new LiveStream(this.api, this.store, {
      onMessage: (m) => this.ingest([m], { complete: true }),
      onTrouble: (text) => (text ? this.panel.setBanner(text, { kind: "stream" }) : this.panel.clearBanner("stream")),
    });
    this.showState();
    this.init();
  }

  init() {
    const key = customerKey(this.cfg.customerToken);
    if (this.store.data.conversation_id && this.store.data.customer_key !== key) this.store.startOver();
    this.store.data.customer_key = key;
    this.store.save();
    this.outbox.show();
    if (this.store.data.conversation_id) this.loadHistory(this.generation);
    else if (this.outbox.items.length) this.outbox.run();
    window.addEventListener("online", () => this.retryNow());
    // A dead network does not always end a long-lived response: drop the stream ourselves and
    // resume it (Last-Event-ID) when the browser is back online.
    window.addEventListener("offline", () => this.stream.stop());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.retryNow(false);
    });
    this.store.onOtherTab((other) => {
      if (other.conversation_id !== this.store.data.conversation_id) {
        // Another tab started a new conversation (the sign-in changed): follow it.
        this.store.data = other;
        this.clearView();
        if (other.conversation_id) this.loadHistory(this.generation);
      } else if (other.seen_seq > this.store.data.seen_seq) {
        this.store.data.seen_seq = other.seen_seq;
        this.updateBadge();
      }
    });
  }

  /** Empties the view and stops everything in flight (the stored conversation stays). */
  clearView() {
    this.generation += 1;
    this.loaded = false;
    this.stream.stop();
    this.outbox.halt();
    this.transcript.clear();
    this.panel.extras.replaceChildren();
    this.verifyCard = null;
    this.ratingCard = null;
    this.inFlight = 0;
    this.state = "bot";
    this.rating = null;
    this.agentName = null;
    this.panel.clearBanner();
    this.panel.setTyping(false);
    this.showState();
    this.updateBadge();
  }

  /** The conversation is gone (token refused): forget it; `outbox` waits for the next one. */
  startOver(outbox) {
    this.clearView();
    this.store.startOver({ outbox });
    this.outbox.show();
  }

  /** One more (+1) or one fewer (-1) request the shopper is waiting for. */
  busy(delta) {
    this.inFlight += delta;
    this.panel.setTyping(this.inFlight > 0);
    this.updateStream();
  }

  /**
   * The shopper waits for a reply: a message of theirs is on its way (in the outbox, or a
   * request is in flight), or a person is to answer: the conversation is queued, or assigned
   * and the agent has not written since the shopper's last message or the assignment.
   */
  awaitingReply() {
    if (this.inFlight > 0 || this.outbox.sending || this.state === "queued") return true;
    return this.state === "assigned" && this.transcript.lastNonBotSender() !== "agent";
  }

  /**
   * The stream stays open while the panel is open or a reply is awaited, and goes a little
   * after that (STREAM_GRACE_MS). `fresh`: reconnect now, forgetting earlier failures.
   */
  updateStream(fresh = false) {
    if (!this.loaded) return; // loading the history starts it
    if (this.isOpen || this.awaitingReply()) {
      this.stream.keep();
      if (fresh) this.stream.restart();
    } else {
      this.stream.release(STREAM_GRACE_MS);
    }
  }

  async loadHistory(gen) {
    try {
      const r = await this.api.call("GET", this.api.conversationPath("/messages?after=0"));
      if (gen !== this.generation) return;
      this.historyAttempt = 0;
      this.loaded = true;
      this.applyConversation(r);
      this.ingest(r.messages, { complete: true });
      this.panel.clearBanner();
      this.outbox.run();
    } catch (e) {
      if (gen !== this.generation) return;
      if (e instanceof HttpError && e.conversationGone) {
        // The conversation is gone or its token is no longer valid: start afresh on open.
        const outbox = this.outbox.items;
        this.store.startOver({ outbox });
        if (this.isOpen || outbox.length) this.ensureConversation();
      } else {
        this.panel.setBanner(UNREACHABLE, { retry: true });
        clearTimeout(this.historyTimer);
        this.historyTimer = setTimeout(() => gen === this.generation && this.loadHistory(gen), backoff(++this.historyAttempt));
      }
    }
  }

  /** Creates the conversation if there is none yet; resolves to true once there is one. */
  ensureConversation() {
    if (this.store.data.conversation_id) return Promise.resolve(true);
    if (this.starting) return this.starting;
    const gen = this.generation;
    this.busy(+1);
    const body = this.cfg.customerToken ? { customer_token: this.cfg.customerToken } : {};
    this.starting = this.api
      .call("POST", "/api/v1/conversations", body, { auth: false })
      .then((r) => {
        if (gen !== this.generation) return false;
        this.store.begin(r.conversation_id, r.conversation_token, customerKey(this.cfg.customerToken));
        this.loaded = true;
        this.applyConversation(r);
        this.ingest(r.messages, { complete: true });
        this.panel.clearBanner();
        return true;
      })
      .catch((e) => {
        if (gen !== this.generation) return false;
        this.panel.setBanner(UNREACHABLE, { retry: true });
        console.warn("[switchboard] could not start a conversation:", e.message);
        return false;
      })
      .finally(() => {
        if (gen === this.generation) this.busy(-1);
        this.starting = null;
      });
    return this.starting;
  }

  /** Takes the conversation fields of an API answer (state, rating). */
  applyConversation(r) {
    if (!r) return;
    if (typeof r.state === "string") this.state = r.state;
    if ("rating" in r) this.rating = r.rating;
    // The server says whether this conversation may be rated (it had an answer, is unrated).
    if ("can_rate" in r) this.canRate = r.can_rate;
    this.showState();
    this.updateRating();
  }

  open() {
    if (this.isOpen) return;
    this.isOpen = true;
    this.markSeen();
    this.panel.setOpen(true);
    if (this.store.data.conversation_id) this.updateStream();
    else this.ensureConversation();
  }

  close() {
    if (!this.isOpen) return;
    this.isOpen = false;
    this.panel.setOpen(false);
    this.updateBadge();
    this.updateStream();
  }

  /** A new conversation, e.g. after the store's sign-in changed. */
  reset(options = {}) {
    if (options && "customerToken" in options) {
      this.cfg.customerToken = options.customerToken ? String(options.customerToken) : null;
    }
    this.clearView();
    this.store.startOver({ customer: customerKey(this.cfg.customerToken) });
    if (this.isOpen) this.ensureConversation();
  }

  /** Changes the shopper identity; starts a new conversation only if it is another shopper. */
  setCustomerToken(token) {
    const next = token ? String(token) : null;
    if (customerKey(next) === this.store.data.customer_key) this.cfg.customerToken = next;
    else this.reset({ customerToken: next });
  }

  /**
   * Shows the messages not shown yet, in seq order. `complete`: the list is everything after
   * `last_seq` (history, stream), so `last_seq` may move forward; answers to a POST are not
   * (an agent's message may sit before them). Callers apply an answer's conversation fields
   * first: whether a reply is still awaited (the stream) is settled here.
   */
  ingest(messages, { complete = false } = {}) {
    if (!Array.isArray(messages)) return;
    const sorted = messages.filter((m) => m && Number.isFinite(m.seq)).sort((a, b) => a.seq - b.seq);
    let changed = false;
    for (const m of sorted) {
      if (complete && m.seq > this.store.data.last_seq) this.store.data.last_seq = m.seq;
      if (this.transcript.has(m.seq)) continue;
      this.showMessage(m);
      changed = true;
    }
    if (complete) this.store.save();
    if (changed) {
      this.transcript.regroup();
      this.updateQuickReplies();
      this.showState();
      this.updateRating();
      if (this.isOpen) this.markSeen();
      this.updateBadge();
      this.panel.scrollToEnd(false);
    }
    this.updateStream();
  }

  /** One new message; an event changes the state unless a later event is already shown. */
  showMessage(m) {
    if (m.sender !== "event") {
      if (m.sender === "shopper") this.outbox.adopt(m);
      this.transcript.addMessage(m, this.agentName);
      return;
    }
    const ev = describeEvent(m.event, SHOPPER_WORDING);
    if (ev.state && m.seq >= this.transcript.lastEventSeq()) {
      this.state = ev.state;
      // Resolved by an event from the stream: the next answer from the server says whether to ask for a rating.
      if (ev.state === "resolved") this.canRate = undefined;
      if (ev.state === "assigned") this.agentName = ev.agent?.name ?? null;
    }
    this.transcript.addStatus(m, ev.line);
  }

  updateQuickReplies() {
    this.transcript.updateQuickReplies({ sending: this.outbox.sending });
  }

  onQuickReply(m, q, button) {
    const group = button.closest(".quick-replies");
    for (const b of group.querySelectorAll("button")) b.disabled = true;
    this.transcript.spendQuickReplies(m.seq);
    group.hidden = true;
    const value = String(q.value ?? "");
    if (value === "verify_form") return this.showVerifyForm();
    // The buttons just went away (and the focus with them): back to the message box.
    this.panel.focusInput();
    if (value === "handoff" && this.state !== "bot") return this.requestHandoff();
    this.outbox.send(q.label, value);
  }

  /** Tries everything again now (back online, "Retry" clicked, the tab visible again). */
  retryNow(fresh = true) {
    this.outbox.wake(fresh);
    if (!this.store.data.conversation_id) {
      if (this.isOpen || this.outbox.items.length) this.ensureConversation().then((ok) => ok && this.outbox.run());
    } else if (!this.loaded) {
      this.loadHistory(this.generation);
    } else {
      this.outbox.run();
      this.updateStream(true);
    }
  }

  /** POSTs a conversation action; its replies join the log. Resolves to the answer, or null. */
  async action(path, body, { onError } = {}) {
    if (!(await this.ensureConversation())) return null;
    const gen = this.generation;
    this.busy(+1);
    try {
      const r = await this.api.call("POST", this.api.conversationPath(path), body);
      if (gen !== this.generation) return null;
      this.applyConversation(r);
      this.ingest(r.replies || []);
      return r;
    } catch (e) {
      if (gen !== this.generation) return null;
      if (onError) onError(e);
      else this.panel.setBanner(retryable(e) ? UNREACHABLE : e.message);
      return null;
    } finally {
      if (gen === this.generation) this.busy(-1);
    }
  }

  async requestHandoff() {
    if (!this.isOpen) this.open();
    if (this.state === "queued" || this.state === "assigned") return;
    this.panel.handoffBtn.disabled = true;
    await this.action("/handoff", undefined);
    this.showState();
  }

  showVerifyForm() {
    if (this.verifyCard) return this.verifyCard.querySelector("input").focus();
    const closeForm = () => {
      this.verifyCard.remove();
      this.verifyCard = null;
      this.panel.focusInput();
    };
    this.verifyCard = verifyForm({
      verify: async ({ order, email }) => {
        let problem = false;
        const r = await this.action(
          "/verify",
          { order_number: order, email },
          { onError: (err) => (problem = retryable(err) ? "Can't reach the chat right now. Please try again." : err.message) },
        );
        return r ? true : problem;
      },
      onDone: closeForm,
      onCancel: () => {
        this.transcript.restoreQuickReplies();
        this.updateQuickReplies();
        closeForm();
      },
    });
    this.panel.extras.append(this.verifyCard);
    this.panel.scrollToEnd(true);
    this.verifyCard.querySelector("input").focus({ preventScroll: true });
  }

  /** Asks for a rating once resolved, until the shopper has given one. */
  updateRating() {
    const wanted =
      this.state === "resolved" && this.rating == null && this.canRate !== false && !!this.store.data.conversation_id;
    if (!wanted) {
      if (this.ratingCard && !this.ratingCard.dataset.done && !this.ratingCard.dataset.busy) {
        this.ratingCard.remove();
        this.ratingCard = null;
      }
      return;
    }
    if (this.ratingCard) return;
    this.ratingCard = ratingForm({
      rate: async (score, comment) => {
        let refused = false;
        const onError = (e) => {
          // Already rated, or nothing to rate (resolved without an answer): stop asking.
          refused = e.code === "already_rated" || e.code === "nothing_to_rate";
          if (!refused) this.panel.setBanner(retryable(e) ? UNREACHABLE : e.message);
        };
        const r = await this.action("/rating", comment ? { score, comment } : { score }, { onError });
        if (r) this.rating = score;
        if (refused) {
          this.canRate = false;
          this.ratingCard?.remove();
          this.ratingCard = null;
        }
        return !!r;
      },
    });
    this.panel.extras.append(this.ratingCard);
    this.panel.scrollToEnd(true);
  }

  showState() {
    this.panel.showState(this.state, this.agentName);
  }

  markSeen() {
    const max = this.transcript.maxSeq(this.store.data.seen_seq);
    if (max !== this.store.data.seen_seq) {
      this.store.data.seen_seq = max;
      this.store.save();
    }
    this.updateBadge();
  }

  updateBadge() {
    this.panel.setUnread(this.transcript.unreadAfter(this.store.data.seen_seq), this.isOpen);
  }
}
