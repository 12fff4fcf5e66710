// The console's part of the learning loop, in headless Chromium against the real server:
// labelling and relabelling shopper messages, resolving with "the bot could have answered
// this", and reviewing the training examples together (mouse and keyboard only).
// Run with tests/browser/run.sh. Models, retraining and shadow: models.test.mjs.

import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";

import { ADMIN, AGENT, ARTIFACTS, BASE, agentApi, apiConversation, apiHandoff, apiSend, assertClean, consoleLogin, eventually, useBrowser } from "./helpers.mjs";

const fresh = useBrowser();

/** Eight random letters, to find what a test made among what others left. */
const tag = () => Array.from({ length: 8 }, () => "abcdefghijklmnopqrstuvwxyz"[Math.floor(Math.random() * 26)]).join("");

/** A handed-off conversation whose shopper wrote `text`: {conv, messageId}. */
async function handedOff(text) {
  const conv = await apiConversation();
  const sent = await apiSend(conv, text);
  await apiHandoff(conv).catch(() => {}); // the bot may have handed it over already
  return { conv, messageId: sent.message.id };
}

/** Pending training examples made through the agent API: [{id, text, intent}]. */
async function pendingExamples(pairs) {
  const agent = await agentApi(AGENT);
  const out = [];
  for (const [text, intent] of pairs) {
    const { messageId } = await handedOff(text);
    const res = await agent.post(`/api/v1/agent/messages/${messageId}/label`, { intent });
    assert.equal(res.status, 201, `label "${text}"`);
    out.push({ id: res.body.training_example, text, intent });
  }
  await agent.dispose();
  return out;
}

/** The stored examples of `status` whose text contains `needle`. */
async function stored(status, needle) {
  const admin = await agentApi(ADMIN);
  const { body } = await admin.get(`/api/v1/admin/training-examples?status=${status}`);
  await admin.dispose();
  return body.training_examples.filter((e) => e.text.includes(needle));
}

async function intentLabels() {
  const agent = await agentApi(AGENT);
  const { body } = await agent.get("/api/v1/agent/intents");
  await agent.dispose();
  return new Map(body.intents.map((i) => [i.name, i.label]));
}

const count = async (page, status) => Number(await page.locator(`[data-ex-count="${status}"]`).textContent());
const exampleRow = (page, id) => page.locator(`#examples-body tr[data-example="${id}"]`);

/** Presses Tab (or Shift+Tab) until `isThere(arg)`, run in the page, holds for the focused element. */
async function tabUntil(page, isThere, arg, { shift = false, max = 120 } = {}) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(shift ? "Shift+Tab" : "Tab");
    if (await page.evaluate(isThere, arg)) return;
  }
  throw new Error(`the keyboard never reached it (${isThere.toString().slice(0, 80)})`);
}
const onCheckboxOf = (id) => document.activeElement?.classList.contains("ex-check") && document.activeElement.closest("tr")?.dataset.example === id;
const onId = (id) => document.activeElement?.id === id;

async function openAdmin(page, problems) {
  await consoleLogin(page, problems, ADMIN);
  await page.goto(`${BASE}/console#/admin`);
  await page.locator("#agents-body tr").first().waitFor();
  await page.waitForFunction(() => document.querySelector('[data-ex-count="pending"]').textContent !== "");
}

describe("learning loop: labels and review", { concurrency: false }, () => {
  test("label a message, then label it again: the transcript shows the new label, the admin has one example with it", async () => {
    const t = tag();
    const text = `the box came open and the cup inside was smashed ${t}`;
    const { conv } = await handedOff(text);
    const labels = await intentLabels();

    const { context, page, problems } = await fresh();
    await consoleLogin(page, problems, AGENT);
    await page.locator(`.qrow[data-id="${conv.id}"]`).click();
    const msg = page.locator(".msg.shopper").filter({ hasText: t });
    await msg.waitFor();
    const button = msg.locator(".label-btn");
    assert.equal(await button.textContent(), "Label");
    await button.click();
    await page.locator("#label-dialog").waitFor();
    assert.equal(await page.locator("#label-h").textContent(), "Label this message");
    await page.keyboard.type("complain");
    await page.keyboard.press("Enter");
    await page.keyboard.press("Enter");
    await page.locator("#label-dialog").waitFor({ state: "hidden" });
    await msg.locator(".labelled").filter({ hasText: `Labelled: ${labels.get("complaint")}` }).waitFor();
    assert.equal(await msg.locator(".label-btn").textContent(), "Relabel");
    assert.equal(await page.evaluate(() => document.activeElement.textContent), "Relabel", "the keyboard stays on the message");

    // Again, with the l shortcut: the dialog says what it is now and changes it.
    await page.locator("#transcript").focus();
    await page.keyboard.press("l");
    await page.locator("#label-dialog").waitFor();
    assert.equal(await page.locator("#label-h").textContent(), "Change the label");
    assert.equal(await page.locator('#label-list .label-opt[data-intent="complaint"]').getAttribute("aria-selected"), "true", "the current label is picked");
    assert.equal(await page.locator("#label-submit").isDisabled(), true, "nothing to save until another intent is picked");
    await page.keyboard.type("damag");
    await page.keyboard.press("Enter");
    assert.equal(await page.locator("#label-submit").textContent(), "Change label");
    await page.keyboard.press("Enter");
    await page.locator("#label-dialog").waitFor({ state: "hidden" });
    await msg.locator(".labelled").filter({ hasText: `Labelled: ${labels.get("damaged_or_wrong_item")}` }).waitFor();
    assert.equal(await msg.locator(".labelled").count(), 1);

    const examples = await stored("pending", t);
    assert.equal(examples.length, 1, "one example per message");
    assert.equal(examples[0].intent, "damaged_or_wrong_item");
    assert.equal(examples[0].source, "label");
    assertClean(problems);
    await context.close();
  });

  test("resolve with 'the bot could have answered this': a pending example from the resolution, shown as such to the admin", async () => {
    const t = tag();
    const text = `how many days does delivery to Norway take ${t}`;
    const { conv, messageId } = await handedOff(text);
    const labels = await intentLabels();

    const agent = await fresh();
    await consoleLogin(agent.page, agent.problems, AGENT);
    const page = agent.page;
    await page.locator(`.qrow[data-id="${conv.id}"]`).click();
    await page.locator(".msg.shopper").filter({ hasText: t }).waitFor();
    await page.click("#act-claim");
    await page.locator("#conv-meta .state-mine").waitFor();
    assert.equal(await page.locator("#act-resolve").isVisible(), true, "the one-click resolve is still there");
    await page.waitForFunction(() => document.activeElement.id === "composer-input"); // after a claim
    await page.keyboard.press("Escape");
    await page.keyboard.press("Shift+E");
    const dialog = page.locator("#resolve-dialog");
    await dialog.waitFor();
    assert.equal(await page.locator("#resolve-learn").isChecked(), true);
    assert.equal(await page.locator("#resolve-quote").textContent(), text, "the message that becomes the example");
    assert.equal(await page.locator("#resolve-submit").isDisabled(), true, "an intent is needed");
    await page.keyboard.type("deliv");
    await page.locator('#resolve-list .label-opt[data-intent="delivery_options"]').click();
    assert.equal(await page.locator("#resolve-submit").textContent(), `Resolve as “${labels.get("delivery_options")}”`);
    await page.screenshot({ path: join(ARTIFACTS, "console-resolve-dialog.png") });
    await page.click("#resolve-submit");
    await dialog.waitFor({ state: "hidden" });
    await page.locator("#conv-meta .state-resolved").waitFor();
    const msg = page.locator(`.msg.shopper[data-id="${messageId}"]`);
    await msg.locator(".labelled").filter({ hasText: `Labelled: ${labels.get("delivery_options")}` }).waitFor();

    const [example] = await stored("pending", t);
    assert.ok(example, "a pending example");
    assert.deepEqual([example.intent, example.source, example.message_id, example.conversation_id], ["delivery_options", "resolution", messageId, conv.id]);

    const admin = await fresh();
    await openAdmin(admin.page, admin.problems);
    const row = exampleRow(admin.page, example.id);
    await row.waitFor();
    assert.equal(await row.locator(".source").textContent(), "Bot could have answered");
    assert.match(await row.textContent(), new RegExp(labels.get("delivery_options")));
    assertClean(agent.problems);
    assertClean(admin.problems);
    await agent.context.close();
    await admin.context.close();
  });

  test("bulk review: change the intent of one, approve several at once; all or nothing when one is no longer pending", async () => {
    const t = tag();
    const [parcel, paypal, invoice, shoes] = await pendingExamples([
      [`where is my parcel, it has not arrived yet ${t}`, "order_status"],
      [`can I pay with paypal ${t}`, "payment_methods"],
      [`I need an invoice for my company ${t}`, "invoice_request"],
      [`how do I send back shoes that do not fit ${t}`, "refund_status"],
    ]);
    const labels = await intentLabels();
    const { context, page, problems } = await openAdminPage();
    problems.ignore.push(/status of 409 \(Conflict\)/); // the all-or-nothing refusal below
    for (const ex of [parcel, paypal, invoice, shoes]) await exampleRow(page, ex.id).waitFor();
    const pendingBefore = await count(page, "pending");
    const approvedBefore = await count(page, "approved");
    assert.equal(await page.locator("#bulk-approve").isDisabled(), true, "nothing selected: no action");

    // One moves to another intent and stays pending.
    await exampleRow(page, shoes.id).locator(".ex-check").check();
    assert.equal(await page.locator("#ex-selected").textContent(), "1 selected");
    await page.click("#bulk-intent");
    await page.locator("#intent-dialog").waitFor();
    await page.keyboard.type("return pol");
    await page.locator('#intent-list .label-opt[data-intent="return_policy"]').click();
    await page.click("#intent-submit");
    await page.locator("#intent-dialog").waitFor({ state: "hidden" });
    await exampleRow(page, shoes.id).filter({ hasText: labels.get("return_policy") }).waitFor();
    assert.equal(await exampleRow(page, shoes.id).locator(".ex-check").isChecked(), false, "the selection is cleared");
    assert.equal((await stored("pending", `shoes that do not fit ${t}`))[0].intent, "return_policy");

    // All or nothing: one of the selection is approved elsewhere meanwhile.
    await exampleRow(page, parcel.id).locator(".ex-check").check();
    await exampleRow(page, paypal.id).locator(".ex-check").check();
    const admin = await agentApi(ADMIN);
    assert.equal((await admin.post(`/api/v1/admin/training-examples/${paypal.id}/approve`)).status, 200);
    await admin.dispose();
    await page.click("#bulk-approve");
    const error = page.locator("#examples-error");
    await error.waitFor({ state: "visible" });
    assert.ok((await error.textContent()).length > 0, "the server's message is shown");
    await exampleRow(page, paypal.id).waitFor({ state: "detached" });
    assert.equal((await stored("pending", `my parcel, it has not arrived yet ${t}`)).length, 1, "the other one is still pending");

    // Three at once.
    await exampleRow(page, parcel.id).locator(".ex-check").check();
    await exampleRow(page, invoice.id).locator(".ex-check").check();
    await exampleRow(page, shoes.id).locator(".ex-check").check();
    assert.equal(await page.locator("#ex-selected").textContent(), "3 selected");
    await page.screenshot({ path: join(ARTIFACTS, "console-examples-review.png") });
    await page.click("#bulk-approve");
    for (const ex of [parcel, invoice, shoes]) await exampleRow(page, ex.id).waitFor({ state: "detached" });
    await error.waitFor({ state: "hidden" });
    await eventually(async () => (await count(page, "pending")) === pendingBefore - 4, { message: "the pending count follows" });
    assert.equal(await count(page, "approved"), approvedBefore + 4);
    assert.equal((await stored("approved", t)).length, 4);

    await page.locator('.seg-btn[data-status="approved"]').click();
    for (const ex of [parcel, paypal, invoice, shoes]) await exampleRow(page, ex.id).waitFor();
    assert.equal(await page.locator("#examples-body .ex-check").count(), 0, "approved examples are not selectable");
    assert.equal(await page.locator("#bulk-bar").isVisible(), false);
    assertClean(problems);
    await context.close();
  });

  test("keyboard only: select examples with Tab, Space and arrows, reject them, change one's intent and approve it", async () => {
    const t = tag();
    const [weather, lottery, broken] = await pendingExamples([
      [`what is the weather in Paris today ${t}`, "order_status"],
      [`did I win the lottery ${t}`, "refund_status"],
      [`my parcel arrived and the lamp is broken ${t}`, "complaint"],
    ]);
    const { context, page, problems } = await openAdminPage();
    for (const ex of [weather, lottery, broken]) await exampleRow(page, ex.id).waitFor();
    const rejectedBefore = await count(page, "rejected");

    // Oldest first: the two to reject are next to each other.
    const order = await page.locator("#examples-body tr").evaluateAll((rows) => rows.map((r) => r.dataset.example));
    const [first, second] = [weather.id, lottery.id].sort((a, b) => order.indexOf(a) - order.indexOf(b));
    assert.equal(order.indexOf(second), order.indexOf(first) + 1);
    await page.locator("#ex-tab-pending").focus();
    await tabUntil(page, onCheckboxOf, first);
    await page.keyboard.press("Space");
    await page.keyboard.press("ArrowDown");
    assert.ok(await page.evaluate(onCheckboxOf, second), "Down goes to the next row's checkbox");
    await page.keyboard.press("Space");
    assert.equal(await page.locator("#ex-selected").textContent(), "2 selected");
    await tabUntil(page, onId, "bulk-reject", { shift: true });
    await page.keyboard.press("Enter");
    for (const ex of [weather, lottery]) await exampleRow(page, ex.id).waitFor({ state: "detached" });
    await eventually(async () => (await count(page, "rejected")) === rejectedBefore + 2, { message: "two more rejected" });
    assert.notEqual(await page.evaluate(() => document.activeElement.tagName), "BODY", "the keyboard stays in the list");
    assert.equal((await stored("rejected", t)).length, 2);

    await page.locator("#ex-tab-pending").focus();
    await tabUntil(page, onCheckboxOf, broken.id);
    await page.keyboard.press("Space");
    await tabUntil(page, onId, "bulk-intent", { shift: true });
    await page.keyboard.press("Enter");
    await page.locator("#intent-dialog").waitFor();
    await page.keyboard.type("damag");
    await page.keyboard.press("Enter"); // pick
    await tabUntil(page, onId, "intent-approve");
    await page.keyboard.press("Enter");
    await page.locator("#intent-dialog").waitFor({ state: "hidden" });
    await exampleRow(page, broken.id).waitFor({ state: "detached" });
    const [approved] = await stored("approved", t);
    assert.deepEqual([approved.id, approved.intent], [broken.id, "damaged_or_wrong_item"]);

    // The status tabs move with the arrow keys.
    await page.locator("#ex-tab-pending").focus();
    await page.keyboard.press("ArrowRight");
    assert.equal(await page.locator("#ex-tab-approved").getAttribute("aria-selected"), "true");
    await exampleRow(page, broken.id).waitFor();
    assertClean(problems);
    await context.close();
  });
});

async function openAdminPage() {
  const s = await fresh();
  await openAdmin(s.page, s.problems);
  return s;
}
