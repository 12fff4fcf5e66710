// What the widget keeps in localStorage per server: the conversation, read/seen marks, unsent messages.

const VERSION = 1;

/**
 * Who the shopper is, as far as telling "same shopper, fresh token" from "another shopper".
 * The store's customer token is base64url(json{customer_id,...}).signature; only the server
 * checks the signature, the widget just reads the customer id.
 */
export function customerKey(token) {
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

function empty(customer_key = null, outbox = []) {
  return { conversation_id: null, token: null, customer_key, last_seq: 0, seen_seq: 0, outbox };
}

export class ConversationStore {
  constructor(server) {
    this.key = `switchboard:v${VERSION}:${server}`;
    this.data = this.read();
  }

  /** What is stored now (another tab may have changed it). */
  read() {
    try {
      const raw = localStorage.getItem(this.key);
      if (!raw) return empty();
      const d = JSON.parse(raw);
      return { ...empty(), ...d, outbox: Array.isArray(d.outbox) ? d.outbox : [] };
    } catch {
      return empty();
    }
  }

  save() {
    try {
      localStorage.setItem(this.key, JSON.stringify(this.data));
    } catch {
      /* storage full or blocked: the widget still works for this page */
    }
  }

  /** Forgets the conversation; keeps whose it is and the given unsent messages. */
  startOver({ customer = this.data.customer_key, outbox = [] } = {}) {
    this.data = empty(customer, outbox);
    this.save();
  }

  /** A conversation the server just created. */
  begin(conversationId, token, customer) {
    Object.assign(this.data, { conversation_id: conversationId, token, customer_key: customer, last_seq: 0, seen_seq: 0 });
    this.save();
  }

  /** Calls `fn(stored)` whenever another tab changes what is stored. */
  onOtherTab(fn) {
    window.addEventListener("storage", (e) => {
      if (e.key === this.key) fn(this.read());
    });
  }
}
