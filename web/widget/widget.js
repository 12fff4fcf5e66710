// Switchboard storefront chat widget.
//
//   <script type="module" src="https://chat.example.com/widget/widget.js"
//           data-server="https://chat.example.com"     (optional; defaults to this script's origin)
//           data-customer-token="..."                  (optional; signed by the store backend)
//           data-title="Juniper & Co."                 (optional)
//           data-accent="#0b7a5c"></script>            (optional)
//
// Plain module, no build step, no dependencies. Every text that comes from a shopper, an agent
// or the order data is put in the page as text (textContent / text nodes), never as HTML.
// The page API is `window.SwitchboardWidget = {open(), close(), reset({customerToken}), ...}`.

import { WIDGET_CSS } from "./widget-styles.js";

const VERSION = 1;
const MAX_CHARS = 2000;
const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;

// ---------------------------------------------------------------------------------------------
// Configuration

function findScript() {
  const own = new URL(import.meta.url);
  own.hash = "";
  for (const s of document.querySelectorAll("script[src]")) {
    try {
      const u = new URL(s.src, document.baseURI);
      u.hash = "";
      if (u.href === own.href) return s;
    } catch {
      /* ignore */
    }
  }
  return document.querySelector("script[data-switchboard]") || null;
}

function readConfig() {
  const el = findScript();
  const data = el ? el.dataset : {};
  let server = new URL(import.meta.url).origin;
  if (data.server) {
    try {
      const u = new URL(data.server, document.baseURI);
      if (u.protocol === "http:" || u.protocol === "https:") {
        server = (u.origin + u.pathname).replace(/\/+$/, "");
      }
    } catch {
      console.warn("[switchboard] ignoring invalid data-server", data.server);
    }
  }
  const accent = data.accent && CSS.supports("color", data.accent) ? data.accent : "#0b7a5c";
  return {
    server,
    customerToken: data.customerToken ? data.customerToken.trim() || null : null,
    title: (data.title || "Chat with us").slice(0, 80),
    accent,
  };
}

// The store's customer token is base64url(json{customer_id,...}).signature (SPEC 5). The widget
// only reads the customer id, to tell "same shopper, fresh token" from "another shopper"; the
// server alone checks the signature.
function customerKey(token) {
  if (!token) return "anonymous";
  try {
    const payload = token.split(".")[0].replace(/-/g, "+").replace(/_/g, "/");
    const json = JSON.parse(atob(payload + "===".slice((payload.length + 3) % 4)));
    if (json && typeof json.customer_id === "string") return "customer:" + json.customer_id;
  } catch {
    /* not our format: compare the whole token */
  }
  return "token:" + token;
}

function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function backoff(attempt, base = 1000, max = 30000) {
  const d = Math.min(max, base * 2 ** attempt);
  return Math.round(d * (0.6 + Math.random() * 0.4));
}

// ---------------------------------------------------------------------------------------------
// DOM helpers (text only)

function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v == null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k in el && typeof v !== "string") el[k] = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";
function icon(name) {
  const paths = ICONS[name];
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.setAttribute("class", "icon-" + name);
  for (const d of paths) {
    const p = document.createElementNS(SVG_NS, "path");
    p.setAttribute("d", d);
    if (name === "star" || name === "send" || name === "bot") {
      p.setAttribute("fill", "currentColor");
    } else {
      p.setAttribute("fill", "none");
      p.setAttribute("stroke", "currentColor");
      p.setAttribute("stroke-width", "2");
      p.setAttribute("stroke-linecap", "round");
      p.setAttribute("stroke-linejoin", "round");
    }
    svg.append(p);
  }
  return svg;
}

const ICONS = {
  chat: ["M21 12a8.5 8.5 0 0 1-12.3 7.6L4 21l1.4-4.4A8.5 8.5 0 1 1 21 12z", "M8.5 12h.01M12 12h.01M15.5 12h.01"],
  close: ["M6 6l12 12M18 6L6 18"],
  minimize: ["M6 9l6 6 6-6"],
  person: ["M20 21v-1.5a4.5 4.5 0 0 0-4.5-4.5h-7A4.5 4.5 0 0 0 4 19.5V21", "M12 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8z"],
  send: ["M3.4 20.4l17.45-7.48a1 1 0 0 0 0-1.84L3.4 3.6a.99.99 0 0 0-1.39.91L2 9.12c0 .5.37.93.87.99L17 12 2.87 13.88c-.5.07-.87.5-.87 1l.01 4.61c0 .71.73 1.2 1.39.91z"],
  star: ["M12 2.8l2.8 5.7 6.3.9-4.55 4.43 1.07 6.27L12 17.14 6.38 20.1l1.07-6.27L2.9 9.4l6.3-.9z"],
  bot: ["M12 2a1.5 1.5 0 0 1 .75 2.8V6H17a3 3 0 0 1 3 3v8a3 3 0 0 1-3 3H7a3 3 0 0 1-3-3V9a3 3 0 0 1 3-3h4.25V4.8A1.5 1.5 0 0 1 12 2zM9 11.5a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm6 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3z"],
};

/** Text with http(s) links made clickable; everything else stays text nodes. */
function linkified(text) {
  const frag = document.createDocumentFragment();
  let last = 0;
  for (const m of text.matchAll(URL_RE)) {
    let url = m[0];
    // Trailing punctuation belongs to the sentence, not the link (keep balanced parentheses).
    while (/[.,;:!?'")\]]$/.test(url)) {
      if (url.endsWith(")") && (url.match(/\(/g) || []).length >= (url.match(/\)/g) || []).length) break;
      url = url.slice(0, -1);
    }
    let href = null;
    try {
      const u = new URL(url);
      if (u.protocol === "http:" || u.protocol === "https:") href = u.href;
    } catch {
      /* not a URL after all */
    }
    if (!href) continue;
    if (m.index > last) frag.append(document.createTextNode(text.slice(last, m.index)));
    const a = document.createElement("a");
    a.href = href;
    a.target = "_blank";
    a.rel = "noopener noreferrer nofollow";
    a.textContent = url;
    frag.append(a);
    last = m.index + url.length;
  }
  if (last < text.length) frag.append(document.createTextNode(text.slice(last)));
  return frag;
}

function initials(name) {
  const parts = String(name || "").trim().split(/\s+/).filter(Boolean);
  if (!parts.length) return "?";
  const first = [...parts[0]][0] || "";
  const second = parts.length > 1 ? [...parts[parts.length - 1]][0] || "" : "";
  return (first + second).toUpperCase();
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const dateTimeFmt = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", hour: "numeric", minute: "2-digit" });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "short" });
function shortTime(ms) {
  const d = new Date(ms);
  const today = new Date();
  return d.toDateString() === today.toDateString() ? timeFmt.format(d) : dateTimeFmt.format(d);
}

/** A machine code of an `event` message -> {state, line} (line null: nothing to show). */
function describeEvent(code) {
  const parts = String(code).split(":");
  if (parts[0] !== "state") return { state: null, line: null };
  const rest = parts.slice(2).join(":");
  switch (parts[1]) {
    case "queued":
      return { state: "queued", line: "You're in the queue for a person" };
    case "assigned":
      return { state: "assigned", line: `${rest || "Someone from our team"} joined the conversation`, agent: rest || null };
    case "resolved":
      return { state: "resolved", line: "Conversation resolved" };
    case "bot":
      return { state: "bot", line: "You're back with the assistant" };
    default:
      return { state: null, line: null };
  }
}

// ---------------------------------------------------------------------------------------------
// Errors

class NetworkError extends Error {}
class HttpError extends Error {
  constructor(status, code, message) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.code = code || "http_" + status;
  }
  get retryable() {
    return this.status === 408 || this.status === 429 || this.status >= 500;
  }
  get conversationGone() {
    return this.status === 401 || this.status === 404;
  }
}
const retryable = (e) => e instanceof NetworkError || (e instanceof HttpError && e.retryable);

// ---------------------------------------------------------------------------------------------
// The widget

class Widget {
  constructor(config) {
    this.cfg = config;
    this.storageKey = `switchboard:v${VERSION}:${config.server}`;
    this.state = "bot";
    this.verified = false;
    this.rating = null;
    this.agentName = null;
    this.isOpen = false;
    this.rendered = new Map(); // seq -> {msg, row}
    this.pendingRows = new Map(); // client_message_id -> row
    this.inFlight = 0;
    this.streamAbort = null;
    this.streamAttempt = 0;
    this.streamTimer = null;
    this.outboxTimer = null;
    this.outboxAttempt = 0;
    this.outboxRunning = false;
    this.starting = null;
    this.generation = 0; // bumped on reset: late answers of an old conversation are dropped
    this.clickedQuick = new Set();
    this.data = this.load();
    this.build();
    this.applyAccent();
    this.init();
  }

  // ----- persistence -----------------------------------------------------------------------

  load() {
    const empty = { conversation_id: null, token: null, customer_key: null, last_seq: 0, seen_seq: 0, outbox: [] };
    try {
      const raw = localStorage.getItem(this.storageKey);
      if (!raw) return empty;
      const d = JSON.parse(raw);
      return { ...empty, ...d, outbox: Array.isArray(d.outbox) ? d.outbox : [] };
    } catch {
      return empty;
    }
  }

  save() {
    try {
      localStorage.setItem(this.storageKey, JSON.stringify(this.data));
    } catch {
      /* storage full or blocked: the widget still works for this page */
    }
  }

  // ----- HTTP ------------------------------------------------------------------------------

  async api(method, path, body, { auth = true, signal } = {}) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (auth) headers.Authorization = `Bearer ${this.data.token}`;
    let res;
    try {
      res = await fetch(this.cfg.server + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "omit",
        cache: "no-store",
        signal,
      });
    } catch (e) {
      if (e && e.name === "AbortError") throw e;
      throw new NetworkError(String(e && e.message));
    }
    let json = null;
    try {
      json = await res.json();
    } catch {
      /* empty or not JSON */
    }
    if (!res.ok) throw new HttpError(res.status, json?.error?.code, json?.error?.message);
    return json;
  }

  convPath(suffix) {
    return `/api/v1/conversations/${encodeURIComponent(this.data.conversation_id)}${suffix}`;
  }

  // ----- DOM -------------------------------------------------------------------------------

  build() {
    this.host = h("div", { id: "switchboard-widget", "data-switchboard-widget": "" });
    this.root = this.host.attachShadow({ mode: "open" });
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(WIDGET_CSS);
    this.root.adoptedStyleSheets = [sheet];

    this.badge = h("span", { class: "badge", hidden: true, "aria-hidden": "true" });
    this.launcher = h(
      "button",
      {
        class: "launcher",
        type: "button",
        "aria-label": "Open chat",
        "aria-expanded": "false",
        "aria-controls": "sb-panel",
        onclick: () => (this.isOpen ? this.close() : this.open()),
      },
      icon("chat"),
      icon("close"),
      this.badge,
    );

    this.subtitle = h("p", { class: "subtitle" });
    this.handoffBtn = h(
      "button",
      { class: "hbtn", type: "button", onclick: () => this.requestHandoff() },
      icon("person"),
      (this.handoffLabel = h("span", { text: "Talk to a person" })),
    );
    this.closeBtn = h(
      "button",
      { class: "hbtn icon-only", type: "button", "aria-label": "Close chat", onclick: () => this.close() },
      icon("minimize"),
    );
    this.headerAvatar = h("div", { class: "avatar", "aria-hidden": "true" }, icon("bot"));
    const header = h(
      "div",
      { class: "header" },
      h(
        "div",
        { class: "header-top" },
        this.headerAvatar,
        h("div", { class: "header-text" }, h("h2", { class: "title", id: "sb-title", text: this.cfg.title }), this.subtitle),
        this.closeBtn,
      ),
      h("div", { class: "header-actions" }, this.handoffBtn),
    );

    this.bannerText = h("span");
    this.bannerRetry = h("button", { type: "button", text: "Retry", onclick: () => this.retryNow() });
    this.banner = h("div", { class: "banner", role: "status", hidden: true }, this.bannerText, this.bannerRetry);

    this.log = h("div", { class: "log", role: "log", "aria-live": "polite", "aria-relevant": "additions", "aria-label": "Messages" });
    this.extras = h("div", { class: "extras" });
    this.typing = h(
      "div",
      { class: "typing", hidden: true, role: "status" },
      h("div", { class: "avatar", "aria-hidden": "true" }, icon("bot")),
      h("div", { class: "bubble", "aria-hidden": "true" }, h("span", { class: "dot" }), h("span", { class: "dot" }), h("span", { class: "dot" })),
      h("span", { class: "sr-only", text: "Typing…" }),
    );
    this.scroller = h("div", { class: "scroller" }, this.log, this.extras, this.typing);
    this.stick = true;
    this.scroller.addEventListener("scroll", () => {
      const sc = this.scroller;
      this.stick = sc.scrollHeight - sc.scrollTop - sc.clientHeight < 60;
    }, { passive: true });

    this.input = h("textarea", {
      rows: 1,
      maxLength: MAX_CHARS,
      placeholder: "Write a message…",
      "aria-label": "Message",
      enterKeyHint: "send",
      oninput: () => this.onInput(),
      onkeydown: (e) => this.onKeyDown(e),
    });
    this.sendBtn = h("button", { class: "send", type: "submit", "aria-label": "Send message", disabled: true }, icon("send"));
    const composer = h(
      "form",
      {
        class: "composer",
        onsubmit: (e) => {
          e.preventDefault();
          this.submitComposer();
        },
      },
      this.input,
      this.sendBtn,
    );

    this.panel = h(
      "div",
      {
        class: "panel",
        id: "sb-panel",
        role: "dialog",
        "aria-modal": "false",
        "aria-labelledby": "sb-title",
        hidden: true,
        onkeydown: (e) => {
          if (e.key === "Escape") {
            e.preventDefault();
            e.stopPropagation();
            this.close();
          }
        },
      },
      header,
      this.banner,
      this.scroller,
      composer,
      h("div", { class: "footer", text: "Powered by Switchboard" }),
    );

    this.root.append(this.panel, this.launcher);
    (document.body || document.documentElement).append(this.host);
    this.updateHeader();
  }

  applyAccent() {
    this.host.style.setProperty("--sb-accent", this.cfg.accent);
    // Pick black or white text for the accent, by relative luminance.
    const probe = h("span", { hidden: true });
    probe.style.color = this.cfg.accent;
    this.root.append(probe);
    const m = getComputedStyle(probe).color.match(/[\d.]+/g);
    probe.remove();
    if (m && m.length >= 3) {
      const [r, g, b] = m.slice(0, 3).map((v) => {
        const c = Number(v) / 255;
        return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
      });
      const lum = 0.2126 * r + 0.7152 * g + 0.0722 * b;
      this.host.style.setProperty("--sb-on-accent", lum > 0.45 ? "#111827" : "#ffffff");
    }
  }

  // ----- life cycle ------------------------------------------------------------------------

  init() {
    const key = customerKey(this.cfg.customerToken);
    if (this.data.conversation_id && this.data.customer_key !== key) this.forget();
    this.data.customer_key = key;
    this.save();
    this.renderOutbox();
    if (this.data.conversation_id) {
      this.loadHistory(this.generation);
    } else if (this.data.outbox.length) {
      this.runOutbox();
    }
    window.addEventListener("online", () => this.retryNow());
    // A dead network does not always end a long-lived response: drop the stream ourselves and
    // resume it (Last-Event-ID) when the browser is back online.
    window.addEventListener("offline", () => this.stopStream());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.retryNow(false);
    });
    window.addEventListener("storage", (e) => {
      if (e.key !== this.storageKey) return;
      const other = this.load();
      if (other.conversation_id !== this.data.conversation_id) {
        // Another tab started a new conversation (sign-in changed): follow it.
        this.data = other;
        this.clearView();
        if (other.conversation_id) this.loadHistory(this.generation);
      } else if (other.seen_seq > this.data.seen_seq) {
        this.data.seen_seq = other.seen_seq;
        this.updateBadge();
      }
    });
  }

  /** Drop the stored conversation (not the view). */
  forget() {
    this.data = { conversation_id: null, token: null, customer_key: this.data.customer_key, last_seq: 0, seen_seq: 0, outbox: [] };
    this.save();
  }

  clearView() {
    this.generation += 1;
    this.stopStream();
    clearTimeout(this.outboxTimer);
    this.outboxRunning = false;
    this.outboxAttempt = 0;
    this.rendered.clear();
    this.pendingRows.clear();
    this.clickedQuick.clear();
    this.log.replaceChildren();
    this.extras.replaceChildren();
    this.verifyCard = null;
    this.ratingCard = null;
    this.inFlight = 0;
    this.state = "bot";
    this.verified = false;
    this.rating = null;
    this.agentName = null;
    this.setBanner(null);
    this.updateTyping();
    this.updateHeader();
    this.updateBadge();
  }

  async loadHistory(gen) {
    try {
      const r = await this.api("GET", this.convPath("/messages?after=0"));
      if (gen !== this.generation) return;
      this.historyAttempt = 0;
      this.applyConversation(r);
      this.ingest(r.messages, { complete: true });
      this.setBanner(null);
      this.startStream();
      this.runOutbox();
    } catch (e) {
      if (gen !== this.generation) return;
      if (e instanceof HttpError && e.conversationGone) {
        // The conversation is gone or its token is no longer valid: start afresh on open.
        const outbox = this.data.outbox;
        this.forget();
        this.data.outbox = outbox;
        this.save();
        if (this.isOpen || outbox.length) this.ensureConversation();
      } else {
        this.setBanner("Can't reach the chat right now.", true);
        this.scheduleHistoryRetry(gen);
      }
    }
  }

  scheduleHistoryRetry(gen) {
    clearTimeout(this.historyTimer);
    this.historyAttempt = (this.historyAttempt || 0) + 1;
    this.historyTimer = setTimeout(() => {
      if (gen === this.generation) this.loadHistory(gen);
    }, backoff(this.historyAttempt));
  }

  /** Creates the conversation if there is none yet; resolves when there is one. */
  ensureConversation() {
    if (this.data.conversation_id) return Promise.resolve(true);
    if (this.starting) return this.starting;
    const gen = this.generation;
    this.inFlight += 1;
    this.updateTyping();
    const body = this.cfg.customerToken ? { customer_token: this.cfg.customerToken } : {};
    this.starting = this.api("POST", "/api/v1/conversations", body, { auth: false })
      .then((r) => {
        if (gen !== this.generation) return false;
        this.data.conversation_id = r.conversation_id;
        this.data.token = r.conversation_token;
        this.data.customer_key = customerKey(this.cfg.customerToken);
        this.data.last_seq = 0;
        this.data.seen_seq = 0;
        this.save();
        this.applyConversation(r);
        this.ingest(r.messages, { complete: true });
        this.setBanner(null);
        this.startStream();
        return true;
      })
      .catch((e) => {
        if (gen !== this.generation) return false;
        this.setBanner("Can't reach the chat right now.", true);
        console.warn("[switchboard] could not start a conversation:", e.message);
        return false;
      })
      .finally(() => {
        if (gen === this.generation) {
          this.inFlight -= 1;
          this.updateTyping();
        }
        this.starting = null;
      });
    return this.starting;
  }

  applyConversation(r) {
    if (!r) return;
    if (typeof r.state === "string") this.state = r.state;
    if (typeof r.verified === "boolean") this.verified = r.verified;
    if ("rating" in r) this.rating = r.rating;
    this.updateHeader();
    this.updateRating();
  }

  // ----- open / close ----------------------------------------------------------------------

  open() {
    if (this.isOpen) return;
    this.isOpen = true;
    this.panel.hidden = false;
    this.host.setAttribute("data-open", "");
    this.launcher.setAttribute("aria-expanded", "true");
    this.launcher.setAttribute("aria-label", "Close chat");
    this.markSeen();
    this.scrollToEnd(true);
    this.input.focus({ preventScroll: true });
    if (!this.data.conversation_id) this.ensureConversation();
  }

  close() {
    if (!this.isOpen) return;
    this.isOpen = false;
    this.panel.hidden = true;
    this.host.removeAttribute("data-open");
    this.launcher.setAttribute("aria-expanded", "false");
    this.updateBadge();
    this.launcher.focus({ preventScroll: true });
  }

  /** A new conversation, e.g. after the store's sign-in changed. */
  reset(options = {}) {
    if (options && "customerToken" in options) {
      this.cfg.customerToken = options.customerToken ? String(options.customerToken) : null;
    }
    this.clearView();
    this.data = { conversation_id: null, token: null, customer_key: customerKey(this.cfg.customerToken), last_seq: 0, seen_seq: 0, outbox: [] };
    this.save();
    if (this.isOpen) this.ensureConversation();
  }

  /** Changes the shopper identity; starts a new conversation only if it is another shopper. */
  setCustomerToken(token) {
    const next = token ? String(token) : null;
    if (customerKey(next) === this.data.customer_key) {
      this.cfg.customerToken = next;
      return;
    }
    this.reset({ customerToken: next });
  }

  // ----- messages --------------------------------------------------------------------------

  /**
   * Renders messages not yet shown (dedupe by seq) in seq order.
   * `complete` = the list is everything after `last_seq` (history, stream), so `last_seq` may
   * move forward; answers to a POST are not (an agent message may sit before them).
   */
  ingest(messages, { complete = false } = {}) {
    if (!Array.isArray(messages)) return;
    const sorted = messages.filter((m) => m && Number.isFinite(m.seq)).sort((a, b) => a.seq - b.seq);
    let changed = false;
    for (const m of sorted) {
      if (complete && m.seq > this.data.last_seq) this.data.last_seq = m.seq;
      if (this.rendered.has(m.seq)) continue;
      this.renderMessage(m);
      changed = true;
    }
    if (complete) this.save();
    if (!changed) return;
    this.regroup();
    this.updateQuickReplies();
    this.updateHeader();
    this.updateRating();
    if (this.isOpen) this.markSeen();
    this.updateBadge();
    this.scrollToEnd(false);
  }

  renderMessage(m) {
    if (m.sender === "event") {
      const ev = describeEvent(m.text);
      if (ev.state && m.seq >= this.lastStateSeq()) {
        this.state = ev.state;
        if (ev.state === "assigned") this.agentName = ev.agent;
      }
      const row = h("div", { class: "status", "data-seq": m.seq }, h("span", { text: ev.line || "" }));
      if (!ev.line) row.hidden = true;
      this.insertRow(m, row);
      return;
    }
    if (m.sender === "shopper") this.adoptPending(m);

    const sender = m.sender === "agent" || m.sender === "shopper" ? m.sender : "bot";
    const name =
      sender === "agent" ? this.agentName || "Support team" : sender === "bot" ? `${this.cfg.title.replace(/^Chat with us$/, "")} Assistant`.trim() : "You";
    const row = h("div", { class: `row ${sender}`, "data-seq": m.seq, "data-sender": sender });
    row.append(this.avatarFor(sender, name));
    const stack = h("div", { class: "stack" });
    if (sender !== "shopper") stack.append(h("div", { class: "sender-name", text: name, "aria-hidden": "true" }));
    const bubble = h("div", { class: "bubble", dir: "auto" });
    bubble.append(h("span", { class: "sr-only", text: sender === "shopper" ? "You said: " : `${name} said: ` }), linkified(String(m.text ?? "")));
    stack.append(bubble);
    const time = h("time", { text: shortTime(m.created_at), title: fullFmt.format(new Date(m.created_at)), datetime: new Date(m.created_at).toISOString() });
    stack.append(h("div", { class: "meta" }, time));
    row.append(stack);
    this.insertRow(m, row);

    if (Array.isArray(m.quick_replies) && m.quick_replies.length) {
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
      this.rendered.get(m.seq).extra = group;
    }
  }

  avatarFor(sender, name) {
    if (sender === "shopper") return h("span", { hidden: true });
    if (sender === "agent") return h("div", { class: "avatar agent", "aria-hidden": "true", text: initials(name) });
    return h("div", { class: "avatar", "aria-hidden": "true" }, icon("bot"));
  }

  lastStateSeq() {
    let max = 0;
    for (const [seq, r] of this.rendered) if (r.msg.sender === "event" && seq > max) max = seq;
    return max;
  }

  /** Inserts a confirmed message at its seq position, before any unsent message. */
  insertRow(m, row) {
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

  /** A shopper message from the server may be one of ours still marked "sending". */
  adoptPending(m) {
    const item = this.data.outbox.find((o) => !o.adopted && o.status !== "failed" && o.text === m.text);
    if (!item) return;
    item.adopted = m.seq;
    this.save();
    const row = this.pendingRows.get(item.cid);
    if (row) row.remove();
    this.pendingRows.delete(item.cid);
  }

  /** Groups consecutive messages of one sender (avatars, names, timestamps on group edges). */
  regroup() {
    const rows = [...this.log.children].filter((c) => c.classList.contains("row"));
    let prev = null;
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      const next = rows[i + 1];
      const same = (a, b) => {
        if (!a || !b) return false;
        if (a.dataset.sender !== b.dataset.sender) return false;
        if (a.nextElementSibling !== b) return false; // a status line or quick replies between
        const ta = this.timeOf(a);
        const tb = this.timeOf(b);
        return Math.abs(tb - ta) < 5 * 60 * 1000;
      };
      r.classList.toggle("group-start", !same(prev, r));
      r.classList.toggle("group-end", !same(r, next));
      prev = r;
    }
  }

  timeOf(row) {
    const seq = row.dataset.seq;
    if (seq !== undefined) return this.rendered.get(Number(seq))?.msg.created_at ?? Date.now();
    return Number(row.dataset.created) || Date.now();
  }

  updateQuickReplies() {
    // Only the latest bot message's quick replies are live; older ones are spent.
    let lastSeq = 0;
    for (const [seq, r] of this.rendered) {
      if (r.msg.sender !== "event" && seq > lastSeq) lastSeq = seq;
    }
    const hasPending = this.data.outbox.some((o) => !o.adopted && o.status !== "failed");
    for (const [seq, r] of this.rendered) {
      if (!r.extra) continue;
      const live = seq === lastSeq && r.msg.sender === "bot" && !this.clickedQuick.has(seq) && !hasPending;
      r.extra.hidden = !live;
    }
  }

  onQuickReply(m, q, button) {
    const group = button.closest(".quick-replies");
    for (const b of group.querySelectorAll("button")) b.disabled = true;
    const value = String(q.value ?? "");
    if (value === "verify_form") {
      this.clickedQuick.add(m.seq);
      group.hidden = true;
      this.showVerifyForm();
      return;
    }
    this.clickedQuick.add(m.seq);
    group.hidden = true;
    if (value === "handoff" && this.state !== "bot") {
      this.requestHandoff();
      return;
    }
    this.send(q.label, value);
  }

  // ----- sending (outbox) ------------------------------------------------------------------

  onInput() {
    this.sendBtn.disabled = this.input.value.trim() === "";
    this.input.style.height = "auto";
    this.input.style.height = Math.min(this.input.scrollHeight, 120) + "px";
  }

  onKeyDown(e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      this.submitComposer();
    }
  }

  submitComposer() {
    const text = this.input.value;
    if (!text.trim()) return;
    this.input.value = "";
    this.onInput();
    this.send(text.slice(0, MAX_CHARS));
    this.input.focus({ preventScroll: true });
  }

  send(text, quickReply) {
    const item = { cid: uuid(), text, quick_reply: quickReply || null, created_at: Date.now(), status: "sending" };
    this.data.outbox.push(item);
    this.save();
    this.renderOutbox();
    this.updateQuickReplies();
    this.scrollToEnd(true);
    this.runOutbox();
  }

  renderOutbox() {
    for (const item of this.data.outbox) {
      if (item.adopted) continue;
      let row = this.pendingRows.get(item.cid);
      if (!row) {
        row = h("div", { class: "row shopper pending group-start group-end", "data-sender": "shopper", "data-created": item.created_at, "data-cid": item.cid });
        const bubble = h("div", { class: "bubble", dir: "auto" });
        bubble.append(h("span", { class: "sr-only", text: "You said: " }), linkified(item.text));
        row.append(h("div", { class: "stack" }, bubble, h("div", { class: "meta" })));
        this.pendingRows.set(item.cid, row);
        this.log.append(row);
      }
      row.classList.toggle("pending", item.status !== "failed");
      row.classList.toggle("failed", item.status === "failed");
      const meta = row.querySelector(".meta");
      meta.replaceChildren();
      if (item.status === "sending") {
        meta.append(h("span", { text: "Sending…" }));
      } else if (item.status === "retrying") {
        meta.append(h("span", { class: "warn", text: "Not sent yet — retrying" }));
        meta.append(h("button", { type: "button", text: "Retry now", onclick: () => this.retryNow() }));
      } else if (item.status === "failed") {
        meta.append(h("span", { class: "warn", text: item.error ? `Not sent: ${item.error}` : "Not sent" }));
        meta.append(h("button", { type: "button", text: "Try again", onclick: () => this.retryItem(item.cid) }));
        meta.append(h("button", { type: "button", text: "Delete", onclick: () => this.dropItem(item.cid) }));
      }
    }
    for (const [cid, row] of this.pendingRows) {
      if (!this.data.outbox.some((o) => o.cid === cid && !o.adopted)) {
        row.remove();
        this.pendingRows.delete(cid);
      }
    }
  }

  retryItem(cid) {
    const item = this.data.outbox.find((o) => o.cid === cid);
    if (!item) return;
    item.status = "sending";
    item.error = null;
    this.save();
    this.renderOutbox();
    this.runOutbox();
  }

  dropItem(cid) {
    this.data.outbox = this.data.outbox.filter((o) => o.cid !== cid);
    this.save();
    this.renderOutbox();
    this.updateQuickReplies();
  }

  /** Retry everything now (online again, "Retry" clicked, tab visible again). */
  retryNow(force = true) {
    clearTimeout(this.outboxTimer);
    this.outboxTimer = null;
    if (force) this.outboxAttempt = 0;
    if (!this.data.conversation_id) {
      if (this.isOpen || this.data.outbox.length) this.ensureConversation().then((ok) => ok && this.runOutbox());
    } else if (this.rendered.size === 0 && !this.streamAbort) {
      this.loadHistory(this.generation);
    } else {
      this.runOutbox();
      if (!this.streamAbort) {
        this.streamAttempt = 0;
        this.startStream();
      }
    }
  }

  /** Sends queued messages one after another, in order; network errors wait and retry. */
  async runOutbox() {
    if (this.outboxRunning || this.outboxTimer) return;
    this.outboxRunning = true;
    const gen = this.generation;
    try {
      while (gen === this.generation) {
        const item = this.data.outbox.find((o) => o.status !== "failed");
        if (!item) break;
        if (!(await this.ensureConversation())) {
          this.markRetrying(gen);
          return;
        }
        if (gen !== this.generation) return;
        this.inFlight += 1;
        this.updateTyping();
        try {
          const body = { text: item.text, client_message_id: item.cid };
          if (item.quick_reply) body.quick_reply = item.quick_reply;
          const r = await this.api("POST", this.convPath("/messages"), body);
          if (gen !== this.generation) return;
          this.data.outbox = this.data.outbox.filter((o) => o.cid !== item.cid);
          this.save();
          this.outboxAttempt = 0;
          this.setBanner(null);
          this.renderOutbox();
          this.applyConversation(r);
          this.ingest([r.message, ...(r.replies || [])].filter(Boolean));
        } catch (e) {
          if (gen !== this.generation) return;
          if (retryable(e)) {
            this.markRetrying(gen);
            return;
          }
          if (e instanceof HttpError && e.conversationGone) {
            // Token no longer valid: a new conversation takes the queued messages.
            const outbox = this.data.outbox.map((o) => ({ ...o, adopted: undefined }));
            this.clearView();
            this.forget();
            this.data.outbox = outbox;
            this.save();
            this.renderOutbox();
            continue;
          }
          if (item.adopted) {
            // The server has it already (it came back over the stream).
            this.data.outbox = this.data.outbox.filter((o) => o.cid !== item.cid);
            this.save();
            continue;
          }
          item.status = "failed";
          item.error = e.message;
          this.save();
          this.renderOutbox();
        } finally {
          if (gen === this.generation) {
            this.inFlight -= 1;
            this.updateTyping();
          }
        }
      }
    } finally {
      if (gen === this.generation) this.outboxRunning = false;
      this.updateQuickReplies();
    }
  }

  markRetrying(gen) {
    for (const o of this.data.outbox) if (o.status === "sending") o.status = "retrying";
    this.save();
    this.renderOutbox();
    this.outboxRunning = false;
    const delay = backoff(this.outboxAttempt++, 1000, 30000);
    this.setBanner("Connection lost. Messages will be sent when we're back.", true);
    clearTimeout(this.outboxTimer);
    this.outboxTimer = setTimeout(() => {
      this.outboxTimer = null;
      if (gen === this.generation) this.runOutbox();
    }, delay);
  }

  // ----- other actions ---------------------------------------------------------------------

  async action(path, body, { onError } = {}) {
    if (!(await this.ensureConversation())) return null;
    const gen = this.generation;
    this.inFlight += 1;
    this.updateTyping();
    try {
      const r = await this.api("POST", this.convPath(path), body);
      if (gen !== this.generation) return null;
      this.applyConversation(r);
      this.ingest(r.replies || []);
      return r;
    } catch (e) {
      if (gen !== this.generation) return null;
      if (onError) onError(e);
      else this.setBanner(retryable(e) ? "Can't reach the chat right now." : e.message, false);
      return null;
    } finally {
      if (gen === this.generation) {
        this.inFlight -= 1;
        this.updateTyping();
      }
    }
  }

  async requestHandoff() {
    if (!this.isOpen) this.open();
    if (this.state === "queued" || this.state === "assigned") return;
    this.handoffBtn.disabled = true;
    await this.action("/handoff", undefined);
    this.updateHeader();
  }

  showVerifyForm() {
    if (this.verifyCard) {
      this.verifyCard.querySelector("input").focus();
      return;
    }
    const order = h("input", { name: "order_number", required: true, autocomplete: "off", inputMode: "text", maxLength: 64, spellcheck: "false" });
    const email = h("input", { name: "email", type: "email", required: true, autocomplete: "email", maxLength: 254, spellcheck: "false" });
    const error = h("p", { class: "error", role: "alert", hidden: true });
    const submit = h("button", { class: "btn", type: "submit", text: "Check my order" });
    const form = h(
      "form",
      {
        class: "card verify",
        "aria-label": "Verify your order",
        onsubmit: async (e) => {
          e.preventDefault();
          const on = order.value.trim();
          const em = email.value.trim();
          if (!on || !em) {
            error.textContent = "Please enter both the order number and the email address.";
            error.hidden = false;
            return;
          }
          submit.disabled = true;
          error.hidden = true;
          const r = await this.action(
            "/verify",
            { order_number: on, email: em },
            {
              onError: (err) => {
                error.textContent = retryable(err) ? "Can't reach the chat right now. Please try again." : err.message;
                error.hidden = false;
              },
            },
          );
          submit.disabled = false;
          if (r) {
            form.remove();
            this.verifyCard = null;
            this.input.focus({ preventScroll: true });
          }
        },
      },
      h("h3", { text: "Find your order" }),
      h("p", { text: "Enter the order number and the email address you used when ordering." }),
      h("label", { class: "field" }, h("span", { text: "Order number" }), order),
      h("label", { class: "field" }, h("span", { text: "Email" }), email),
      error,
      h(
        "div",
        { class: "actions" },
        h("button", {
          class: "btn secondary",
          type: "button",
          text: "Cancel",
          onclick: () => {
            form.remove();
            this.verifyCard = null;
            this.clickedQuick.clear();
            this.updateQuickReplies();
            this.input.focus({ preventScroll: true });
          },
        }),
        submit,
      ),
    );
    this.verifyCard = form;
    this.extras.append(form);
    this.scrollToEnd(true);
    order.focus({ preventScroll: true });
  }

  updateRating() {
    const wanted = this.state === "resolved" && this.rating == null && !!this.data.conversation_id;
    if (!wanted) {
      if (this.ratingCard && !this.ratingCard.dataset.done && !this.ratingCard.dataset.busy) {
        this.ratingCard.remove();
        this.ratingCard = null;
      }
      return;
    }
    if (this.ratingCard) return;
    let score = 0;
    const stars = [];
    const submit = h("button", { class: "btn", type: "submit", text: "Send rating", disabled: true });
    const comment = h("textarea", { name: "comment", rows: 2, maxLength: MAX_CHARS, placeholder: "Anything to add? (optional)", "aria-label": "Comment (optional)" });
    const paint = (n) => stars.forEach((s, i) => s.classList.toggle("on", i < n));
    const starRow = h("div", { class: "stars", role: "group", "aria-label": "Rating from 1 to 5 stars" });
    for (let i = 1; i <= 5; i++) {
      const s = h(
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
      stars.push(s);
      starRow.append(s);
    }
    const card = h(
      "form",
      {
        class: "card rating",
        "aria-label": "Rate this conversation",
        onsubmit: async (e) => {
          e.preventDefault();
          if (!score) return;
          submit.disabled = true;
          card.dataset.busy = "1";
          const body = { score };
          if (comment.value.trim()) body.comment = comment.value.trim();
          const r = await this.action("/rating", body);
          delete card.dataset.busy;
          if (r) {
            this.rating = score;
            card.dataset.done = "1";
            card.replaceChildren(h("p", { class: "thanks", role: "status", text: `Thanks! You rated this conversation ${score} out of 5.` }));
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
    this.ratingCard = card;
    this.extras.append(card);
    this.scrollToEnd(true);
  }

  // ----- live stream -----------------------------------------------------------------------

  stopStream() {
    clearTimeout(this.streamTimer);
    this.streamTimer = null;
    if (this.streamAbort) this.streamAbort.abort();
    this.streamAbort = null;
  }

  startStream() {
    if (!this.data.conversation_id || this.streamAbort) return;
    clearTimeout(this.streamTimer);
    this.streamTimer = null;
    const ctrl = new AbortController();
    this.streamAbort = ctrl;
    const gen = this.generation;
    this.readStream(ctrl.signal, gen)
      .then((how) => this.streamEnded(ctrl, gen, how))
      .catch((e) => this.streamEnded(ctrl, gen, e && e.name === "AbortError" ? "aborted" : e));
  }

  streamEnded(ctrl, gen, how) {
    if (this.streamAbort === ctrl) this.streamAbort = null;
    if (how === "aborted" || gen !== this.generation) return;
    if (how instanceof HttpError && how.conversationGone) return; // nothing to resume
    const delay = how === "reconnect" ? 1000 + Math.random() * 2000 : backoff(this.streamAttempt++, 1000, 30000);
    if (how !== "reconnect" && this.streamAttempt > 2) this.setBanner("Reconnecting…", false);
    this.streamTimer = setTimeout(() => {
      this.streamTimer = null;
      if (gen === this.generation) this.startStream();
    }, delay);
  }

  async readStream(signal, gen) {
    const headers = { Accept: "text/event-stream", Authorization: `Bearer ${this.data.token}` };
    if (this.data.last_seq > 0) headers["Last-Event-ID"] = String(this.data.last_seq);
    let res;
    try {
      res = await fetch(this.cfg.server + this.convPath("/events"), { headers, signal, cache: "no-store", credentials: "omit" });
    } catch (e) {
      if (e && e.name === "AbortError") return "aborted";
      throw new NetworkError(String(e && e.message));
    }
    if (!res.ok || !res.body) throw new HttpError(res.status);
    this.streamAttempt = 0;
    if (this.banner.dataset.kind === "stream") this.setBanner(null);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    const sep = /\r\n\r\n|\n\n|\r\r/;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return "closed";
      if (gen !== this.generation) return "aborted";
      buf += value;
      let m;
      while ((m = sep.exec(buf))) {
        const block = buf.slice(0, m.index);
        buf = buf.slice(m.index + m[0].length);
        const ev = this.parseEvent(block);
        if (!ev) continue;
        if (ev.event === "reconnect") {
          reader.cancel().catch(() => {});
          return "reconnect";
        }
        if (ev.event === "message" && ev.data) {
          try {
            const msg = JSON.parse(ev.data);
            this.ingest([msg], { complete: true });
          } catch {
            /* a malformed event is skipped */
          }
        }
      }
    }
  }

  parseEvent(block) {
    let event = "message";
    const data = [];
    let any = false;
    for (const line of block.split(/\r\n|\n|\r/)) {
      if (!line || line.startsWith(":")) continue;
      const i = line.indexOf(":");
      const field = i < 0 ? line : line.slice(0, i);
      let value = i < 0 ? "" : line.slice(i + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "event") event = value;
      else if (field === "data") data.push(value);
      else if (field === "id" || field === "retry") {
        /* the seq is inside the message too */
      } else continue;
      any = true;
    }
    return any ? { event, data: data.join("\n") } : null;
  }

  // ----- indicators ------------------------------------------------------------------------

  setBanner(text, withRetry = false) {
    if (!text) {
      this.banner.hidden = true;
      delete this.banner.dataset.kind;
      return;
    }
    this.bannerText.textContent = text;
    this.bannerRetry.hidden = !withRetry;
    this.banner.dataset.kind = text === "Reconnecting…" ? "stream" : "other";
    this.banner.hidden = false;
  }

  updateTyping() {
    const show = this.inFlight > 0;
    const wasHidden = this.typing.hidden;
    this.typing.hidden = !show;
    if (show && wasHidden) this.scrollToEnd(false);
  }

  updateHeader() {
    const s = this.state;
    let text;
    if (s === "assigned") text = `${this.agentName || "Someone from our team"} is here to help`;
    else if (s === "queued") text = "Waiting for a person from our team";
    else if (s === "resolved") text = "Conversation resolved";
    else text = "Our assistant answers right away";
    this.subtitle.replaceChildren(h("span", { class: "dot", "aria-hidden": "true" }), text);
    if (s === "assigned" && this.agentName) {
      this.headerAvatar.className = "avatar agent";
      this.headerAvatar.replaceChildren(initials(this.agentName));
    } else {
      this.headerAvatar.className = "avatar";
      this.headerAvatar.replaceChildren(icon("bot"));
    }
    this.handoffBtn.disabled = s === "queued" || s === "assigned";
    this.handoffBtn.hidden = s === "assigned";
    this.handoffLabel.textContent = s === "queued" ? "A person will join soon" : "Talk to a person";
  }

  unreadCount() {
    let n = 0;
    for (const [seq, r] of this.rendered) {
      if (seq > this.data.seen_seq && (r.msg.sender === "bot" || r.msg.sender === "agent")) n++;
    }
    return n;
  }

  markSeen() {
    let max = this.data.seen_seq;
    for (const seq of this.rendered.keys()) if (seq > max) max = seq;
    if (max !== this.data.seen_seq) {
      this.data.seen_seq = max;
      this.save();
    }
    this.updateBadge();
  }

  updateBadge() {
    const n = this.isOpen ? 0 : this.unreadCount();
    this.badge.hidden = n === 0;
    this.badge.textContent = n > 9 ? "9+" : String(n);
    this.launcher.setAttribute(
      "aria-label",
      this.isOpen ? "Close chat" : n ? `Open chat, ${n} unread message${n > 1 ? "s" : ""}` : "Open chat",
    );
  }

  /** Follows new messages unless the shopper scrolled up to read older ones. */
  scrollToEnd(force) {
    if (!force && !this.stick) return;
    this.stick = true;
    cancelAnimationFrame(this.scrollFrame);
    this.scrollFrame = requestAnimationFrame(() => {
      this.scroller.scrollTop = this.scroller.scrollHeight;
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Boot

function boot() {
  if (window.SwitchboardWidget && window.SwitchboardWidget.__instance) return;
  const widget = new Widget(readConfig());
  window.SwitchboardWidget = Object.freeze({
    __instance: true,
    open: () => widget.open(),
    close: () => widget.close(),
    reset: (options) => widget.reset(options),
    setCustomerToken: (token) => widget.setCustomerToken(token),
    get isOpen() {
      return widget.isOpen;
    },
    get conversationId() {
      return widget.data.conversation_id;
    },
  });
  window.dispatchEvent(new CustomEvent("switchboard:ready"));
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot, { once: true });
else boot();
