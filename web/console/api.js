// The console's server calls: the JSON API (session cookie, CSRF header) and the agents' event stream.

import { backoff } from "../shared/backoff.js";
import { sseEvents } from "../shared/sse.js";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let csrfToken = "";
let onUnauthorized = () => {};

export function setCsrf(token) {
  csrfToken = token || "";
}

/** Called when any request (other than log-in) answers 401: the session is gone. */
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  const init = { method, headers, credentials: "same-origin", cache: "no-store" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  if (method !== "GET") headers["X-CSRF-Token"] = csrfToken;
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, "network", "The server could not be reached. Check the connection and try again.");
  }
  if (res.status === 204) return null;
  let data = null;
  try {
    data = await res.json();
  } catch {
    /* not JSON */
  }
  if (!res.ok) {
    const err = (data && data.error) || {};
    if (res.status === 401 && path !== "/api/v1/agent/login") onUnauthorized();
    throw new ApiError(res.status, err.code || `http_${res.status}`, err.message || `Request failed (${res.status})`);
  }
  return data;
}

const STALL_MS = 40000; // the server sends a keep-alive every 15 s

/**
 * Keeps the agents' stream open until `stop()`. Callbacks: onOpen() after each `ready`,
 * onDrop() when the connection is lost (before each retry), onEvent(name, data),
 * onLoggedOut() on a 401 or a `logged_out` event (the stream then stops).
 */
export function openStream({ onOpen, onDrop, onEvent, onLoggedOut }) {
  let stopped = false;
  let controller = null;
  let attempt = 0;
  let stall = null;

  // A connection that silently died sends nothing, not even keep-alives: give up on it.
  const armStall = () => {
    clearTimeout(stall);
    stall = setTimeout(() => controller && controller.abort(), STALL_MS);
  };

  async function once() {
    controller = new AbortController();
    armStall();
    const res = await fetch("/api/v1/agent/events", {
      headers: { Accept: "text/event-stream" },
      credentials: "same-origin",
      cache: "no-store",
      signal: controller.signal,
    });
    if (res.status === 401) return "logged_out";
    if (!res.ok || !res.body) throw new Error(`stream answered ${res.status}`);
    for await (const ev of sseEvents(res.body, armStall)) {
      if (ev.event === "ready") {
        attempt = 0;
        onOpen();
      } else if (ev.event === "logged_out" || ev.event === "reconnect") {
        return ev.event;
      } else if (ev.event !== "message" || ev.data) {
        onEvent(ev.event, parseJson(ev.data) || {});
      }
    }
    return "closed";
  }

  // The browser knows when the network is gone: drop the stream at once (the banner shows),
  // and retry without waiting for the backoff when it is back.
  let wake = null;
  const offline = () => controller && controller.abort();
  const online = () => wake && wake();
  window.addEventListener("offline", offline);
  window.addEventListener("online", online);

  (async () => {
    while (!stopped) {
      let outcome;
      try {
        outcome = await once();
      } catch {
        outcome = "error";
      }
      clearTimeout(stall);
      if (stopped) return;
      if (outcome === "logged_out") {
        stopped = true;
        onLoggedOut();
        return;
      }
      onDrop();
      await new Promise((resume) => {
        const t = setTimeout(resume, backoff(attempt++, 500, 15000));
        wake = () => {
          clearTimeout(t);
          resume();
        };
      });
      wake = null;
    }
  })();

  return {
    stop() {
      stopped = true;
      window.removeEventListener("offline", offline);
      window.removeEventListener("online", online);
      if (wake) wake();
      clearTimeout(stall);
      if (controller) controller.abort();
    },
  };
}

function parseJson(text) {
  try {
    return JSON.parse(text || "null");
  } catch {
    return null;
  }
}
