// Switchboard storefront chat widget: reads its <script> tag and starts the chat (ES modules, no build).
//
//   <script type="module" src="https://chat.example.com/widget/widget.js"
//           data-server="https://chat.example.com"     (optional; defaults to this script's origin)
//           data-customer-token="..."                  (optional; signed by the store backend)
//           data-title="Juniper & Co."                 (optional)
//           data-accent="#0b7a5c"></script>            (optional)
//
// The modules it imports load from the same server (/widget/, /shared/), with its CORS.
// The page API is `window.SwitchboardWidget = {open(), close(), reset({customerToken}), ...}`.

import { Chat } from "./chat.js";

const DEFAULT_ACCENT = "#0b7a5c";

/** The <script> tag that loaded this module (its data-* attributes configure the widget). */
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
  return {
    server,
    customerToken: data.customerToken ? data.customerToken.trim() || null : null,
    title: (data.title || "Chat with us").slice(0, 80),
    accent: data.accent && CSS.supports("color", data.accent) ? data.accent : DEFAULT_ACCENT,
  };
}

function boot() {
  if (window.SwitchboardWidget && window.SwitchboardWidget.__instance) return;
  const chat = new Chat(readConfig());
  window.SwitchboardWidget = Object.freeze({
    __instance: true,
    open: () => chat.open(),
    close: () => chat.close(),
    reset: (options) => chat.reset(options),
    setCustomerToken: (token) => chat.setCustomerToken(token),
    get isOpen() {
      return chat.isOpen;
    },
    get conversationId() {
      return chat.store.data.conversation_id;
    },
  });
  window.dispatchEvent(new CustomEvent("switchboard:ready"));
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot, { once: true });
else boot();
