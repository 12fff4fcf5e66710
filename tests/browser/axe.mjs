// axe-core in the browser tests: runs it on a whole page (open shadow roots included) and
// asserts that it finds no serious or critical violation; the figures of every page checked
// are printed when the test file ends.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { after } from "node:test";

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const BLOCKING = ["serious", "critical"];
const figures = [];

after(() => {
  if (!figures.length) return;
  console.log("\naxe-core serious/critical violations per page (rules / nodes):");
  for (const f of figures) {
    const detail = f.blocking.map((v) => `${v.id}×${v.nodes}`).join(", ");
    const others = f.others.map((v) => `${v.impact} ${v.id}×${v.nodes}`).join(", ");
    console.log(
      `  ${f.page.padEnd(34)} ${String(f.width).padStart(4)}px  ${f.blocking.length} / ${f.nodes}` +
        (detail ? `  (${detail})` : "") +
        (others ? `  [also ${others}]` : ""),
    );
  }
});

/**
 * Runs axe on the whole document, open shadow roots included, and asserts that it finds no
 * serious or critical violation. axe goes into the page through the DevTools protocol, which
 * the page's CSP does not govern; the page itself keeps running under its CSP. Returns the
 * selectors of every node axe checked and passed.
 */
export async function assertAccessible(page, name, width = page.viewportSize().width) {
  if (!(await page.evaluate(() => typeof window.axe === "object"))) await page.evaluate(AXE_SOURCE);
  const { violations, passedTargets } = await page.evaluate(async () => {
    const r = await window.axe.run(document);
    return {
      violations: r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target) })),
      passedTargets: r.passes.flatMap((v) => v.nodes.map((n) => n.target)),
    };
  });
  const blocking = violations.filter((v) => BLOCKING.includes(v.impact));
  const count = (v) => ({ id: v.id, impact: v.impact, nodes: v.targets.length });
  figures.push({
    page: name,
    width,
    blocking: blocking.map(count),
    nodes: blocking.reduce((n, v) => n + v.targets.length, 0),
    others: violations.filter((v) => !BLOCKING.includes(v.impact)).map(count),
  });
  const explain = blocking.map((v) => `${v.impact} ${v.id} (${v.help}): ${v.targets.slice(0, 5).map((t) => JSON.stringify(t)).join(" ")}`);
  assert.deepEqual(explain, [], `${name} at ${width}px: no serious or critical axe violation`);
  return passedTargets;
}

/** Neither the page nor the console's scrolling admin page scrolls sideways. */
export async function assertNoSidewaysScroll(page, name) {
  const extra = await page.evaluate(() => {
    const out = [document.documentElement.scrollWidth - document.documentElement.clientWidth];
    for (const el of document.querySelectorAll("#admin-view, #models-list, .model-card, dialog[open]")) {
      if (el.offsetParent !== null || el.matches("dialog[open]")) out.push(el.scrollWidth - el.clientWidth);
    }
    return Math.max(...out);
  });
  assert.ok(extra <= 0, `${name}: the page scrolls sideways by ${extra}px`);
}
