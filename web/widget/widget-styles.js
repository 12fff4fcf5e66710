// The widget's styles, adopted by its shadow root: no store CSS in or out, no inline <style> (CSP).
//
// Custom properties set on the host element by panel.js:
//   --sb-accent      the store's accent colour (data-accent)
//   --sb-on-accent   black or white, whichever reads better on the accent

export const WIDGET_CSS = `
:host {
  all: initial;
  --sb-accent: #0b7a5c;
  --sb-on-accent: #fff;
  --sb-bg: #ffffff;
  --sb-surface: #f4f5f7;
  --sb-border: #e4e6eb;
  --sb-text: #1d2129;
  --sb-muted: #667085;
  --sb-danger: #b42318;
  --sb-radius: 18px;
  --sb-font: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans",
    "Liberation Sans", sans-serif, "Apple Color Emoji", "Segoe UI Emoji", "Noto Color Emoji";
  font-family: var(--sb-font);
  font-size: 15px;
  line-height: 1.45;
  color: var(--sb-text);
  -webkit-font-smoothing: antialiased;
}

*, *::before, *::after { box-sizing: border-box; }

[hidden] { display: none !important; }

.sr-only {
  position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px;
  overflow: hidden; clip: rect(0 0 0 0); clip-path: inset(50%); white-space: nowrap; border: 0;
}

button, input, textarea { font: inherit; color: inherit; }
button { cursor: pointer; }
button:disabled { cursor: default; }

:focus-visible { outline: 2px solid var(--sb-accent); outline-offset: 2px; }

/* icons (icons.js): solid shapes are filled, the others drawn with a stroke */
svg path { fill: none; stroke: currentColor; stroke-width: 2; stroke-linecap: round; stroke-linejoin: round; }
.icon-bot path, .icon-send path, .icon-star path { fill: currentColor; stroke: none; }

/* ---------- launcher ---------- */

.launcher {
  position: fixed; right: 20px; bottom: 20px; z-index: 2147483000;
  width: 60px; height: 60px; border-radius: 50%; border: 0; padding: 0;
  display: grid; place-items: center;
  background: var(--sb-accent); color: var(--sb-on-accent);
  box-shadow: 0 6px 20px rgba(16, 24, 40, .22), 0 2px 6px rgba(16, 24, 40, .12);
  transition: transform .18s ease, box-shadow .18s ease;
}
.launcher:hover { transform: scale(1.05); box-shadow: 0 10px 28px rgba(16, 24, 40, .26), 0 3px 8px rgba(16, 24, 40, .14); }
.launcher:focus-visible { outline: 3px solid var(--sb-accent); outline-offset: 3px; }
.launcher svg { width: 28px; height: 28px; }
.launcher .icon-close { display: none; }
.launcher[aria-expanded="true"] .icon-chat { display: none; }
.launcher[aria-expanded="true"] .icon-close { display: block; }

.badge {
  position: absolute; top: -3px; right: -3px;
  min-width: 22px; height: 22px; padding: 0 6px; border-radius: 11px;
  background: #e0322b; color: #fff; border: 2px solid #fff;
  font-size: 12px; font-weight: 700; line-height: 18px; text-align: center;
  font-variant-numeric: tabular-nums;
}

/* ---------- panel ---------- */

.panel {
  position: fixed; right: 20px; bottom: 92px; z-index: 2147483001;
  width: 384px; height: min(640px, calc(100vh - 116px)); max-height: calc(100vh - 116px);
  display: flex; flex-direction: column; overflow: hidden;
  background: var(--sb-bg); border-radius: 16px;
  box-shadow: 0 16px 48px rgba(16, 24, 40, .22), 0 4px 12px rgba(16, 24, 40, .10);
  transform-origin: bottom right;
  animation: sb-pop .2s ease-out;
}
@keyframes sb-pop {
  from { opacity: 0; transform: translateY(12px) scale(.98); }
  to { opacity: 1; transform: none; }
}

/* ---------- header ---------- */

.header {
  flex: none; padding: 14px 10px 12px 16px;
  background: var(--sb-accent); color: var(--sb-on-accent);
}
.header-top { display: flex; align-items: center; gap: 10px; }
.header .avatar { width: 38px; height: 38px; font-size: 15px; box-shadow: 0 0 0 2px rgba(255, 255, 255, .35); }
.header-text { flex: 1; min-width: 0; }
.title {
  margin: 0; font-size: 16px; font-weight: 650; line-height: 1.25;
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis;
}
.subtitle {
  margin: 1px 0 0; font-size: 12.5px; opacity: .88; line-height: 1.3;
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis;
}
.subtitle .dot {
  display: inline-block; width: 7px; height: 7px; border-radius: 50%;
  background: #34d399; margin-right: 6px; vertical-align: 1px;
  box-shadow: 0 0 0 2px rgba(255, 255, 255, .35);
}
.header-actions { display: flex; align-items: center; gap: 6px; margin: 10px 0 0 48px; }
.hbtn {
  display: inline-flex; align-items: center; gap: 6px;
  height: 34px; padding: 0 10px; border-radius: 17px; border: 0;
  background: rgba(255, 255, 255, .16); color: inherit;
  font-size: 13px; font-weight: 600; white-space: nowrap;
  transition: background .15s ease;
}
.hbtn:hover { background: rgba(255, 255, 255, .28); }
.hbtn:disabled { opacity: .6; }
.hbtn svg { width: 16px; height: 16px; flex: none; }
.hbtn.icon-only { width: 34px; padding: 0; justify-content: center; background: transparent; }
.hbtn.icon-only:hover { background: rgba(255, 255, 255, .18); }
.hbtn.icon-only svg { width: 20px; height: 20px; }
.header :focus-visible { outline-color: var(--sb-on-accent); }

/* ---------- connection / error banner ---------- */

.banner {
  flex: none; display: flex; align-items: center; gap: 8px; justify-content: center;
  padding: 7px 12px; font-size: 12.5px;
  background: #fff7e6; color: #7a4a00; border-bottom: 1px solid #f5deb0;
}
.banner button {
  border: 0; background: none; padding: 0; font-weight: 600; text-decoration: underline; color: inherit;
}

/* ---------- conversation ---------- */

.scroller {
  flex: 1; min-height: 0; overflow-y: auto; overflow-x: hidden;
  overscroll-behavior: contain;
  padding: 16px 14px 8px;
  background: var(--sb-bg);
}
.log { display: flex; flex-direction: column; }

.row { display: flex; align-items: flex-end; gap: 8px; margin-top: 2px; min-width: 0; }
.row.group-start { margin-top: 12px; }
.row:first-child { margin-top: 0; }
.row.shopper { justify-content: flex-end; }

.avatar {
  flex: none; width: 28px; height: 28px; border-radius: 50%;
  display: grid; place-items: center; overflow: hidden;
  background: var(--sb-accent); color: var(--sb-on-accent);
  font-size: 12px; font-weight: 700; letter-spacing: .02em; text-transform: uppercase;
}
.avatar svg { width: 60%; height: 60%; }
.avatar.agent { background: #3b4a63; color: #fff; }
.row .avatar { visibility: hidden; }
.row.group-end .avatar { visibility: visible; margin-bottom: 20px; }

.stack { display: flex; flex-direction: column; min-width: 0; max-width: 80%; }
.row.shopper .stack { align-items: flex-end; }

.sender-name { font-size: 12px; color: var(--sb-muted); margin: 0 0 3px 12px; font-weight: 600; }
.row:not(.group-start) .sender-name { display: none; }

.bubble {
  padding: 9px 13px; border-radius: var(--sb-radius);
  white-space: pre-wrap; overflow-wrap: anywhere; word-break: break-word;
  min-width: 0; max-width: 100%;
  unicode-bidi: plaintext; text-align: start;
}
.row.bot .bubble { background: var(--sb-surface); color: var(--sb-text); }
.row.agent .bubble { background: #fff; color: var(--sb-text); border: 1px solid var(--sb-border); box-shadow: 0 1px 2px rgba(16, 24, 40, .05); }
.row.shopper .bubble { background: var(--sb-accent); color: var(--sb-on-accent); }
.row.bot:not(.group-end) .bubble, .row.agent:not(.group-end) .bubble { border-bottom-left-radius: 6px; }
.row.bot:not(.group-start) .bubble, .row.agent:not(.group-start) .bubble { border-top-left-radius: 6px; }
.row.shopper:not(.group-end) .bubble { border-bottom-right-radius: 6px; }
.row.shopper:not(.group-start) .bubble { border-top-right-radius: 6px; }

.bubble a { color: inherit; text-decoration: underline; text-underline-offset: 2px; }
.row.bot .bubble a, .row.agent .bubble a { color: var(--sb-link, #0b5cad); }

.meta {
  font-size: 11.5px; color: var(--sb-muted); margin: 3px 6px 0; display: flex; gap: 6px; align-items: center;
}
.row:not(.group-end) .meta { display: none; }
.row.pending .meta, .row.failed .meta { display: flex; }
.row.pending .bubble { opacity: .72; }
.row.failed .bubble { opacity: .85; box-shadow: inset 0 0 0 2px var(--sb-danger); }
.meta .warn { color: var(--sb-danger); font-weight: 600; }
.meta button {
  border: 0; background: none; padding: 0; color: var(--sb-accent); font-size: 11.5px; font-weight: 600;
  text-decoration: underline;
}

/* status lines: "Sam joined the conversation" */
.status {
  display: flex; align-items: center; gap: 10px; margin: 14px 4px 6px;
  color: var(--sb-muted); font-size: 12px; text-align: center;
}
.status::before, .status::after { content: ""; flex: 1; height: 1px; background: var(--sb-border); }
.status span { max-width: 80%; overflow-wrap: anywhere; }

/* quick replies */
.quick-replies {
  display: flex; flex-wrap: wrap; justify-content: flex-end; gap: 6px;
  margin: 10px 0 4px 36px;
}
.qr {
  border: 1.5px solid var(--sb-accent); background: #fff; color: var(--sb-accent);
  border-radius: 18px; padding: 6px 13px; font-size: 14px; font-weight: 600; line-height: 1.3;
  max-width: 100%; overflow-wrap: anywhere; text-align: center;
  transition: background .15s ease, color .15s ease;
}
.qr:hover:not(:disabled) { background: var(--sb-accent); color: var(--sb-on-accent); }
.qr:disabled { opacity: .5; }

/* inline cards (verification form, rating) */
.card {
  margin: 12px 0 6px 36px; padding: 14px; border-radius: 14px;
  background: #fff; border: 1px solid var(--sb-border);
  box-shadow: 0 2px 8px rgba(16, 24, 40, .06);
}
.card h3 { margin: 0 0 4px; font-size: 14.5px; font-weight: 650; }
.card p { margin: 0 0 10px; font-size: 13px; color: var(--sb-muted); }
.field { display: block; margin-bottom: 10px; }
.field span { display: block; font-size: 12.5px; font-weight: 600; margin-bottom: 4px; }
.field input, .card textarea {
  display: block; width: 100%; padding: 8px 10px; border-radius: 9px;
  border: 1px solid #cfd4dc; background: #fff; font-size: 14px; outline: none;
}
.field input:focus, .card textarea:focus { border-color: var(--sb-accent); box-shadow: 0 0 0 3px color-mix(in srgb, var(--sb-accent) 22%, transparent); }
.card textarea { resize: none; min-height: 60px; margin-bottom: 10px; }
.card .actions { display: flex; gap: 8px; justify-content: flex-end; align-items: center; }
.card .error { color: var(--sb-danger); font-size: 12.5px; margin: -2px 0 8px; }
.btn {
  border: 0; border-radius: 9px; padding: 8px 14px; font-size: 14px; font-weight: 600;
  background: var(--sb-accent); color: var(--sb-on-accent);
}
.btn:disabled { opacity: .55; }
.btn.secondary { background: transparent; color: var(--sb-muted); }
.btn.secondary:hover { color: var(--sb-text); }

.stars { display: flex; gap: 4px; margin: 2px 0 10px; }
.star {
  width: 38px; height: 38px; border: 0; border-radius: 10px; padding: 4px;
  background: transparent; color: #c5cad3; display: grid; place-items: center;
  transition: transform .12s ease, color .12s ease;
}
.star svg { width: 28px; height: 28px; }
.star.on { color: #f5a623; }
.star:hover { transform: scale(1.08); }
.thanks { font-size: 13.5px; color: var(--sb-muted); margin: 0; }

/* typing indicator */
.typing { display: flex; align-items: flex-end; gap: 8px; margin-top: 12px; }
.typing .bubble { background: var(--sb-surface); display: inline-flex; gap: 4px; padding: 12px 14px; }
.typing .dot {
  width: 7px; height: 7px; border-radius: 50%; background: #98a2b3;
  animation: sb-bounce 1.2s infinite ease-in-out;
}
.typing .dot:nth-child(2) { animation-delay: .15s; }
.typing .dot:nth-child(3) { animation-delay: .3s; }
@keyframes sb-bounce {
  0%, 60%, 100% { transform: translateY(0); opacity: .5; }
  30% { transform: translateY(-4px); opacity: 1; }
}

/* ---------- composer ---------- */

.composer {
  flex: none; display: flex; align-items: flex-end; gap: 8px;
  margin: 0; padding: 10px 12px 10px 14px; border-top: 1px solid var(--sb-border); background: #fff;
}
.composer textarea {
  flex: 1; min-width: 0; resize: none; border: 0; outline: none; background: transparent;
  padding: 8px 0; max-height: 120px; font-size: 15px; line-height: 1.4;
}
.composer textarea::placeholder { color: #98a2b3; }
.composer:focus-within { box-shadow: inset 0 2px 0 0 var(--sb-accent); }
.send {
  flex: none; width: 38px; height: 38px; border-radius: 50%; border: 0;
  display: grid; place-items: center;
  background: var(--sb-accent); color: var(--sb-on-accent);
  transition: opacity .15s ease, transform .15s ease;
}
.send:disabled { opacity: .35; }
.send svg { width: 18px; height: 18px; }
.footer {
  flex: none; text-align: center; font-size: 11px; color: var(--sb-muted); padding: 0 0 8px; background: #fff;
}

/* ---------- small screens: full-screen panel ---------- */

@media (max-width: 480px) {
  .panel {
    inset: 0; right: 0; bottom: 0; width: 100%; height: 100%; max-height: none;
    border-radius: 0; animation-name: sb-slide;
  }
  :host([data-open]) .launcher { display: none; }
  .launcher { right: 16px; bottom: 16px; }
  .stack { max-width: 86%; }
  .composer textarea { font-size: 16px; } /* no zoom on iOS */
}
@keyframes sb-slide { from { transform: translateY(24px); opacity: 0; } to { transform: none; opacity: 1; } }

@media (prefers-reduced-motion: reduce) {
  *, *::before, *::after { animation: none !important; transition: none !important; scroll-behavior: auto !important; }
  .typing .dot { opacity: .8; }
}

@media (forced-colors: active) {
  .bubble, .card, .launcher, .qr { border: 1px solid CanvasText; }
}
`;
