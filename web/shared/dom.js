// Building elements from JavaScript; text only ever becomes text nodes, never parsed as HTML.

/**
 * `h("button", { class: "send", text: "Send", onclick, disabled: true }, ...children)`.
 * `text` sets textContent and string children become text nodes. Booleans and numbers on an
 * element's own properties (hidden, disabled, maxLength, rows) are set as properties, the rest
 * as attributes. `null`, `undefined` and `false` leave a property or child out.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value == null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key in el && typeof value !== "string") el[key] = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Empties an element and returns it, for `clear(list).append(...)`. */
export function clear(el) {
  el.replaceChildren();
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** A decorative 24×24 icon from SVG path data; the app's CSS gives it fill and stroke. */
export function svgIcon(paths, className) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.setAttribute("class", className);
  for (const d of paths) {
    const path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
  return svg;
}
