// The widget's frame in its shadow root: launcher, header, banner, log, typing dots, composer, footer.

import { h } from "../shared/dom.js";
import { initials } from "../shared/initials.js";
import { MAX_TEXT } from "./api.js";
import { icon } from "./icons.js";
import { WIDGET_CSS } from "./widget-styles.js";

const SUBTITLES = {
  queued: "Waiting for a person from our team",
  resolved: "Conversation resolved",
  bot: "Our assistant answers right away",
};

export class Panel {
  /** `on`: toggle(), close(), handoff(), retry() and send(text) for the shopper's actions. */
  constructor({ title, accent }, on) {
    this.on = on;
    this.host = h("div", { id: "switchboard-widget", "data-switchboard-widget": "" });
    this.root = this.host.attachShadow({ mode: "open" });
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(WIDGET_CSS);
    this.root.adoptedStyleSheets = [sheet];
    this.stick = true; // follow new messages unless the shopper scrolled up
    this.root.append(this.buildPanel(title), this.buildLauncher());
    (document.body || document.documentElement).append(this.host);
    this.applyAccent(accent);
  }

  buildLauncher() {
    this.badge = h("span", { class: "badge", hidden: true, "aria-hidden": "true" });
    this.launcher = h(
      "button",
      { class: "launcher", type: "button", "aria-label": "Open chat", "aria-expanded": "false", "aria-controls": "sb-panel", onclick: () => this.on.toggle() },
      icon("chat"),
      icon("close"),
      this.badge,
    );
    return this.launcher;
  }

  buildPanel(title) {
    this.subtitle = h("p", { class: "subtitle" });
    this.handoffLabel = h("span", { text: "Talk to a person" });
    this.handoffBtn = h("button", { class: "hbtn", type: "button", onclick: () => this.on.handoff() }, icon("person"), this.handoffLabel);
    this.headerAvatar = h("div", { class: "avatar", "aria-hidden": "true" }, icon("bot"));
    const header = h(
      "div",
      { class: "header" },
      h(
        "div",
        { class: "header-top" },
        this.headerAvatar,
        h("div", { class: "header-text" }, h("h2", { class: "title", id: "sb-title", text: title }), this.subtitle),
        h("button", { class: "hbtn icon-only", type: "button", "aria-label": "Close chat", onclick: () => this.on.close() }, icon("minimize")),
      ),
      h("div", { class: "header-actions" }, this.handoffBtn),
    );

    this.bannerText = h("span");
    this.bannerRetry = h("button", { type: "button", text: "Retry", onclick: () => this.on.retry() });
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
    this.scroller.addEventListener(
      "scroll",
      () => {
        const sc = this.scroller;
        this.stick = sc.scrollHeight - sc.scrollTop - sc.clientHeight < 60;
      },
      { passive: true },
    );

    this.panel = h(
      "div",
      { class: "panel", id: "sb-panel", role: "dialog", "aria-modal": "false", "aria-labelledby": "sb-title", hidden: true, onkeydown: (e) => this.onPanelKey(e) },
      header,
      this.banner,
      this.scroller,
      this.buildComposer(),
      h("div", { class: "footer", text: "Powered by Switchboard" }),
    );
    return this.panel;
  }

  buildComposer() {
    this.input = h("textarea", {
      rows: 1,
      maxLength: MAX_TEXT,
      placeholder: "Write a message…",
      "aria-label": "Message",
      enterKeyHint: "send",
      oninput: () => this.fitInput(),
      onkeydown: (e) => {
        if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
          e.preventDefault();
          this.submit();
        }
      },
    });
    this.sendBtn = h("button", { class: "send", type: "submit", "aria-label": "Send message", disabled: true }, icon("send"));
    const submit = (e) => {
      e.preventDefault();
      this.submit();
    };
    return h("form", { class: "composer", onsubmit: submit }, this.input, this.sendBtn);
  }

  onPanelKey(e) {
    if (e.key !== "Escape") return;
    e.preventDefault();
    e.stopPropagation();
    this.on.close();
  }

  submit() {
    const text = this.input.value;
    if (!text.trim()) return;
    this.input.value = "";
    this.fitInput();
    this.on.send(text.slice(0, MAX_TEXT));
    this.focusInput();
  }

  /** Grows the composer with its text (up to a limit); Send only with something to send. */
  fitInput() {
    this.sendBtn.disabled = this.input.value.trim() === "";
    this.input.style.height = "auto";
    this.input.style.height = Math.min(this.input.scrollHeight, 120) + "px";
  }

  focusInput() {
    this.input.focus({ preventScroll: true });
  }

  /** Black or white text on the store's accent colour, whichever reads better. */
  applyAccent(accent) {
    this.host.style.setProperty("--sb-accent", accent);
    const probe = h("span", { hidden: true });
    probe.style.color = accent;
    this.root.append(probe);
    const rgb = getComputedStyle(probe).color.match(/[\d.]+/g);
    probe.remove();
    if (!rgb || rgb.length < 3) return;
    const [r, g, b] = rgb.slice(0, 3).map((v) => {
      const c = Number(v) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    this.host.style.setProperty("--sb-on-accent", luminance > 0.45 ? "#111827" : "#ffffff");
  }

  /** Opens or closes the panel; focus goes to the composer, or back to the launcher. */
  setOpen(open) {
    this.panel.hidden = !open;
    this.host.toggleAttribute("data-open", open);
    this.launcher.setAttribute("aria-expanded", String(open));
    if (open) {
      this.scrollToEnd(true);
      this.focusInput();
    } else {
      this.launcher.focus({ preventScroll: true });
    }
  }

  /** The header for the conversation's state ("bot", "queued", "assigned", "resolved"). */
  showState(state, agentName) {
    const text = state === "assigned" ? `${agentName || "Someone from our team"} is here to help` : SUBTITLES[state] || SUBTITLES.bot;
    this.subtitle.replaceChildren(h("span", { class: "dot", "aria-hidden": "true" }), text);
    if (state === "assigned" && agentName) {
      this.headerAvatar.className = "avatar agent";
      this.headerAvatar.replaceChildren(initials(agentName));
    } else {
      this.headerAvatar.className = "avatar";
      this.headerAvatar.replaceChildren(icon("bot"));
    }
    this.handoffBtn.disabled = state === "queued" || state === "assigned";
    this.handoffBtn.hidden = state === "assigned";
    this.handoffLabel.textContent = state === "queued" ? "A person will join soon" : "Talk to a person";
  }

  /** Shows a problem above the log; `kind` names who may clear it (see clearBanner). */
  setBanner(text, { retry = false, kind = "other" } = {}) {
    this.bannerText.textContent = text;
    this.bannerRetry.hidden = !retry;
    this.banner.dataset.kind = kind;
    this.banner.hidden = false;
  }

  /** Hides the banner: any banner, or only one of the given kind. */
  clearBanner(kind) {
    if (kind && this.banner.dataset.kind !== kind) return;
    this.banner.hidden = true;
    delete this.banner.dataset.kind;
  }

  setTyping(show) {
    const wasHidden = this.typing.hidden;
    this.typing.hidden = !show;
    if (show && wasHidden) this.scrollToEnd(false);
  }

  /** The launcher's badge and name: unread messages count only while the panel is closed. */
  setUnread(n, open) {
    const count = open ? 0 : n;
    this.badge.hidden = count === 0;
    this.badge.textContent = count > 9 ? "9+" : String(count);
    this.launcher.setAttribute(
      "aria-label",
      open ? "Close chat" : count ? `Open chat, ${count} unread message${count > 1 ? "s" : ""}` : "Open chat",
    );
  }

  /** Follows new messages unless the shopper scrolled up to read older ones (`force`: always). */
  scrollToEnd(force) {
    if (!force && !this.stick) return;
    this.stick = true;
    cancelAnimationFrame(this.scrollFrame);
    this.scrollFrame = requestAnimationFrame(() => {
      this.scroller.scrollTop = this.scroller.scrollHeight;
    });
  }
}
