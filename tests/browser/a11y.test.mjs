// Accessibility of the storefront widget and the agent console, measured with axe-core in
// headless Chromium (the widget's open shadow root included) at a desktop and a phone width:
// no serious or critical violation, nothing scrolls sideways, focus lands where the next key
// press is meant to go, and the console's triage details can be read without a mouse.
// Run with tests/browser/run.sh; the figures are printed at the end.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { assertAccessible, assertNoSidewaysScroll } from "./axe.mjs";
import {
  ADMIN,
  AGENT,
  BASE,
  agentApi,
  apiConversation,
  apiHandoff,
  apiSend,
  assertClean,
  gotoStore,
  openWidget,
  say,
  storedConversation,
  useBrowser,
} from "./helpers.mjs";

const WIDTHS = [
  [1280, 800],
  [390, 844],
];

const fresh = useBrowser();

/** What has the keyboard focus, looking into the widget's shadow root. */
function focused(page) {
  return page.evaluate(() => {
    let el = document.activeElement;
    while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
    return el ? el.id || el.getAttribute("aria-label") || el.tagName : null;
  });
}

describe("accessibility", { concurrency: false }, () => {
  for (const [width, height] of WIDTHS) {
    test(`storefront with the widget open, hand-off and rating (${width}px)`, async () => {
      const { context, page, problems } = await fresh({ width, height });
      await gotoStore(page);
      const w = await openWidget(page);
      await say(page, "where is my order");
      const talk = w.quick("Talk to a person").last();
      await talk.waitFor();
      const checked = await assertAccessible(page, "storefront + widget", width);
      assert.ok(
        checked.some((t) => Array.isArray(t) && t[0] === "#switchboard-widget"),
        "axe checked nodes inside the widget's shadow root",
      );
      await assertNoSidewaysScroll(page, "storefront + widget");

      // A quick reply chosen with the keyboard: the buttons go away, the cursor goes back to
      // the message box.
      await talk.focus();
      await page.keyboard.press("Enter");
      await w.status.filter({ hasText: "You're in the queue for a person" }).waitFor();
      assert.equal(await focused(page), "Message", "focus returns to the message box after a quick reply");

      const conv = await storedConversation(page);
      const agent = await agentApi(AGENT);
      const base = `/api/v1/agent/conversations/${conv.id}`;
      for (const [path, body] of [["claim"], ["messages", { text: "Hi, I'm Riley. Let me look at it." }], ["resolve"]]) {
        assert.equal((await agent.post(`${base}/${path}`, body)).status, 200, path);
      }
      await agent.dispose();
      await w.loc("form.rating").waitFor();
      await assertAccessible(page, "widget: agent reply, rating", width);
      await assertNoSidewaysScroll(page, "widget: agent reply, rating");
      assertClean(problems);
      await context.close();
    });

    test(`console: log-in, queue, conversation, label and resolve dialogs, admin: examples, models, change intent (${width}px)`, async () => {
      const conv = await apiConversation();
      const sent = await apiSend(conv, "my package was crushed and the mug inside is broken");
      await apiHandoff(conv).catch(() => {}); // the bot may have handed it over already
      const { context, page, problems } = await fresh({ width, height });
      problems.ignore.push(/status of 401 \(Unauthorized\)/);
      await page.goto(BASE + "/console");
      await page.locator("#login-email").waitFor();
      assert.equal(await focused(page), "login-email", "the log-in page starts in the email field");
      await assertAccessible(page, "console log-in", width);
      await assertNoSidewaysScroll(page, "console log-in");

      await page.keyboard.type(ADMIN.email);
      await page.keyboard.press("Tab");
      await page.keyboard.type(ADMIN.password);
      await page.keyboard.press("Enter");
      const row = page.locator(`.qrow[data-id="${conv.id}"]`);
      await row.waitFor();
      assert.equal(await focused(page), "queue-list", "after log-in the keyboard is in the queue");
      await assertAccessible(page, "console queue", width);
      await assertNoSidewaysScroll(page, "console queue");

      await row.click();
      const message = page.locator(".msg.shopper").filter({ hasText: "mug inside is broken" });
      const triage = message.locator(".triage");
      await triage.waitFor();
      // The triage details open from the keyboard and are plain text on the page.
      assert.equal(await triage.getAttribute("title"), null, "no tooltip-only triage details");
      await triage.locator("summary").focus();
      await page.keyboard.press("Enter");
      const facts = triage.locator(".triage-facts");
      await facts.waitFor({ state: "visible" });
      const details = await facts.innerText();
      assert.match(details, /Top intents[\s\S]*\d+%/, "top intents with confidences");
      assert.match(details, /Decision\s+\S/, "the decision and its reason");
      assert.match(details, /Model\s+\S/, "the model version");
      await assertAccessible(page, "console conversation", width);
      await assertNoSidewaysScroll(page, "console conversation");

      await message.locator(".label-btn").click();
      await page.locator("#label-dialog").waitFor();
      await assertAccessible(page, "console label dialog", width);
      await assertNoSidewaysScroll(page, "console label dialog");
      await page.keyboard.press("Escape");
      await page.locator("#label-dialog").waitFor({ state: "hidden" });

      // Resolve: the bot could have answered this (a dialog with the intent picker).
      await page.click("#act-claim");
      await page.locator("#act-resolve-more").click();
      await page.locator("#resolve-dialog").waitFor();
      assert.equal(await focused(page), "resolve-search", "the dialog starts in the intent search");
      assert.equal(await page.locator("#resolve-learn").isChecked(), true);
      await page.keyboard.type("damag");
      await page.keyboard.press("Enter");
      await assertAccessible(page, "console resolve dialog", width);
      await assertNoSidewaysScroll(page, "console resolve dialog");
      await page.keyboard.press("Escape"); // empties the search
      await page.keyboard.press("Escape"); // closes the dialog
      await page.locator("#resolve-dialog").waitFor({ state: "hidden" });

      // The message labelled (by the admin, whose conversation it now is), so the review list
      // has a row to select.
      const agent = await agentApi(ADMIN);
      const labelled = await agent.post(`/api/v1/agent/messages/${sent.message.id}/label`, { intent: "damaged_or_wrong_item" });
      assert.equal(labelled.status, 201, "label");
      await agent.dispose();

      await page.goto(BASE + "/console#/admin");
      await page.locator("#agents-body tr").first().waitFor();
      await page.locator(".model-card").first().waitFor();
      const example = page.locator(`#examples-body tr[data-example="${labelled.body.training_example}"]`);
      await example.locator(".ex-check").check();
      await page.locator("#bulk-approve:not([disabled])").waitFor();
      await assertAccessible(page, "console admin: examples, models", width);
      await assertNoSidewaysScroll(page, "console admin: examples, models");

      await page.click("#bulk-intent");
      await page.locator("#intent-dialog").waitFor();
      assert.equal(await focused(page), "intent-search", "the dialog starts in the intent search");
      await assertAccessible(page, "console change-intent dialog", width);
      await assertNoSidewaysScroll(page, "console change-intent dialog");
      await page.keyboard.press("Escape");
      await page.locator("#intent-dialog").waitFor({ state: "hidden" });
      assertClean(problems);
      await context.close();
    });
  }
});
