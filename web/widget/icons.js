// The widget's inline SVG icons (widget-styles.js fills the solid ones and strokes the others).

import { svgIcon } from "../shared/dom.js";

const PATHS = {
  chat: ["M21 12a8.5 8.5 0 0 1-12.3 7.6L4 21l1.4-4.4A8.5 8.5 0 1 1 21 12z", "M8.5 12h.01M12 12h.01M15.5 12h.01"],
  close: ["M6 6l12 12M18 6L6 18"],
  minimize: ["M6 9l6 6 6-6"],
  person: ["M20 21v-1.5a4.5 4.5 0 0 0-4.5-4.5h-7A4.5 4.5 0 0 0 4 19.5V21", "M12 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8z"],
  send: ["M3.4 20.4l17.45-7.48a1 1 0 0 0 0-1.84L3.4 3.6a.99.99 0 0 0-1.39.91L2 9.12c0 .5.37.93.87.99L17 12 2.87 13.88c-.5.07-.87.5-.87 1l.01 4.61c0 .71.73 1.2 1.39.91z"],
  star: ["M12 2.8l2.8 5.7 6.3.9-4.55 4.43 1.07 6.27L12 17.14 6.38 20.1l1.07-6.27L2.9 9.4l6.3-.9z"],
  bot: ["M12 2a1.5 1.5 0 0 1 .75 2.8V6H17a3 3 0 0 1 3 3v8a3 3 0 0 1-3 3H7a3 3 0 0 1-3-3V9a3 3 0 0 1 3-3h4.25V4.8A1.5 1.5 0 0 1 12 2zM9 11.5a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm6 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3z"],
};

/** A decorative icon: "chat", "close", "minimize", "person", "send", "star" or "bot". */
export function icon(name) {
  return svgIcon(PATHS[name], "icon-" + name);
}
