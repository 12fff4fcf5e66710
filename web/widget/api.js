// The shopper API: JSON over fetch with the conversation token (no cookies); errors say if a retry can help.

/** The longest text the server takes in a message or a rating comment. */
export const MAX_TEXT = 2000;

class NetworkError extends Error {}

export class HttpError extends Error {
  constructor(status, code, message) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.code = code || "http_" + status;
  }
  get retryable() {
    return this.status === 408 || this.status === 429 || this.status >= 500;
  }
  /** The conversation no longer exists, or its token is no longer valid. */
  get conversationGone() {
    return this.status === 401 || this.status === 404;
  }
}

export const retryable = (e) => e instanceof NetworkError || (e instanceof HttpError && e.retryable);

export class ShopperApi {
  constructor(server, store) {
    this.server = server;
    this.store = store;
  }

  /** The stored conversation's URL path plus `suffix`. */
  conversationPath(suffix) {
    return `/api/v1/conversations/${encodeURIComponent(this.store.data.conversation_id)}${suffix}`;
  }

  async call(method, path, body, { auth = true, signal } = {}) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (auth) headers.Authorization = `Bearer ${this.store.data.token}`;
    let res;
    try {
      res = await fetch(this.server + path, {
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

  /** Opens the conversation's event stream, resuming after `lastSeq` (0: from the start). */
  async openStream(lastSeq, signal) {
    const headers = { Accept: "text/event-stream", Authorization: `Bearer ${this.store.data.token}` };
    if (lastSeq > 0) headers["Last-Event-ID"] = String(lastSeq);
    let res;
    try {
      res = await fetch(this.server + this.conversationPath("/events"), { headers, signal, cache: "no-store", credentials: "omit" });
    } catch (e) {
      if (e && e.name === "AbortError") throw e;
      throw new NetworkError(String(e && e.message));
    }
    if (!res.ok || !res.body) throw new HttpError(res.status);
    return res.body;
  }
}
