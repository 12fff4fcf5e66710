// The console's model versions, in headless Chromium against the real server: retraining from
// the button with live progress (the suite's one retrain), the candidate's gate verdict and
// report, shadow, promote and roll back with confirmations, and the accessibility of these
// views. Promoting over the gate (override with a reason) runs against a stubbed list, since
// a rejected candidate would need a second retrain. Run with tests/browser/run.sh.

import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";

import { assertAccessible, assertNoSidewaysScroll } from "./axe.mjs";
import { ADMIN, ARTIFACTS, BASE, agentApi, apiConversation, apiSend, assertClean, consoleLogin, eventually, useBrowser } from "./helpers.mjs";

const fresh = useBrowser();

const card = (page, version) => page.locator(`.model-card[data-version="${version}"]`);

async function models() {
  const admin = await agentApi(ADMIN);
  const { body } = await admin.get("/api/v1/admin/models");
  await admin.dispose();
  return body.models;
}

async function liveVersion() {
  const res = await fetch(`${BASE}/readyz`);
  return (await res.json()).model;
}

async function openModels(page, problems) {
  await consoleLogin(page, problems, ADMIN);
  await page.goto(`${BASE}/console#/admin`);
  await page.locator(".model-card").first().waitFor();
}

describe("models", { concurrency: false }, () => {
  test("retrain from the button: progress moves, a candidate whose gate passed; shadow, promote and roll back", async () => {
    const shipped = (await models()).find((m) => m.number === 1);
    assert.equal(shipped.status, "live", "the shipped model is live to begin with");
    const { context, page, problems } = await fresh();
    await openModels(page, problems);
    const v1 = card(page, shipped.version);
    assert.match(await v1.locator(".gate-none").textContent(), /cross-validated/);
    assert.equal(await v1.locator('[data-action="report"]').count(), 0, "no report for the shipped model");
    assert.equal(await page.locator("#rollback-btn").isVisible(), false, "nothing to roll back to");

    // Retrain: the bar follows the job every half second.
    await page.click("#retrain-btn");
    const bar = page.locator("#retrain-bar");
    await bar.waitFor();
    assert.equal(await page.locator("#retrain-btn").getAttribute("aria-disabled"), "true", "one retrain at a time");
    assert.equal(await page.evaluate(() => document.activeElement.id), "retrain-btn", "the keyboard stays on the button");
    await eventually(async () => (await page.locator("#retrain-status").textContent()) === "Retraining started.", { message: "the start is announced" });
    const seen = [];
    const stages = new Set();
    let checkedMidway = false;
    const verdict = page.locator("#retrain-result .retrain-verdict");
    const end = Date.now() + 120000;
    while (!(await verdict.count())) {
      assert.ok(Date.now() < end, "the retrain finishes within two minutes");
      const now = Number(await bar.getAttribute("aria-valuenow"));
      if (seen[seen.length - 1] !== now) seen.push(now);
      stages.add((await page.locator("#retrain-stage").textContent()).split(" · ")[0]);
      assert.match((await bar.getAttribute("aria-valuetext")) || "", /^.+: \d+%$/, "the stage in words and the share done");
      if (!checkedMidway && now > 5 && now < 60) {
        checkedMidway = true;
        await page.locator("#models-h").evaluate((el) => el.scrollIntoView({ block: "start" }));
        await page.screenshot({ path: join(ARTIFACTS, "console-retrain.png") });
        await assertAccessible(page, "console admin: retraining", 1280);
        // A second tab finds the job running (started elsewhere) and follows it; its
        // Retrain button waits for that job.
        const other = await context.newPage();
        await other.goto(`${BASE}/console#/admin`);
        await other.locator(".model-card").first().waitFor();
        await eventually(async () => Number(await other.locator("#retrain-bar").getAttribute("aria-valuenow")) > 0, { message: "the other tab follows the running job" });
        assert.equal(await other.locator("#retrain-btn").getAttribute("aria-disabled"), "true");
        await other.close();
      }
      await page.waitForTimeout(150);
    }
    const last = Number(await bar.getAttribute("aria-valuenow"));
    if (seen[seen.length - 1] !== last) seen.push(last);
    assert.ok(checkedMidway, `the bar was seen midway: ${seen}`);
    assert.ok(seen.filter((v) => v > 0 && v < 100).length >= 3, `the bar moved: ${seen}`);
    assert.deepEqual([...seen].sort((a, b) => a - b), seen, `the bar never goes back: ${seen}`);
    assert.equal(seen[seen.length - 1], 100);
    assert.ok(stages.size >= 3, `stages in words: ${[...stages]}`);
    await eventually(async () => /^Retraining finished\./.test(await page.locator("#retrain-status").textContent()), { message: "the end is announced" });

    const candidate = (await models()).find((m) => m.number === 2);
    assert.equal(candidate.status, "candidate");
    assert.equal(candidate.gate.passed, true);
    assert.match(await verdict.textContent(), /#2 is a candidate: it passed the gate/);
    const v2 = card(page, candidate.version);
    await v2.waitFor();
    assert.equal(await v2.getAttribute("data-status"), "candidate");
    assert.match(await v2.locator(".gate-passed").textContent(), /Gate passed against the live model #1/);
    const figures = await v2.locator(".figures tbody tr").allInnerTexts();
    assert.equal(figures.length, 4);
    assert.match(figures[0], /Macro-F1\s+\d\.\d{3}\s+\d\.\d{3}\s+\S+/, "macro-F1 as 0.000, the live model's beside it");
    assert.match(figures[1], /Out-of-scope recall\s+\d+\.\d%\s+\d+\.\d%/);
    assert.equal(await page.locator("#retrain-btn").getAttribute("aria-disabled"), "false");
    const report = v2.locator('[data-action="report"]');
    assert.equal(await report.getAttribute("target"), "_blank");
    const html = await page.request.get(BASE + (await report.getAttribute("href")));
    assert.equal(html.status(), 200);
    assert.match(html.headers()["content-type"], /text\/html/);
    await page.locator("#models-h").evaluate((el) => el.scrollIntoView({ block: "start" }));
    await page.screenshot({ path: join(ARTIFACTS, "console-models.png") });
    await assertAccessible(page, "console admin: models, retrained", 1280);
    await assertNoSidewaysScroll(page, "console admin: models, retrained");

    // Shadow: the candidate reads live messages beside the live model.
    await v2.locator('[data-action="shadow-start"]').click();
    await v2.locator(".badge-shadow").waitFor();
    await v2.locator(".shadow-rate").filter({ hasText: "No live message compared yet" }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement.dataset.action), "shadow-stop", "the keyboard stays on the button");
    const shopper = await apiConversation();
    await apiSend(shopper, "where is my order");
    await apiSend(shopper, "do you sell gift cards for my aunt");
    await v2.locator(".shadow-refresh").click();
    await v2.locator(".shadow-rate").filter({ hasText: /agreement: \d of 2 live messages/ }).waitFor();
    await page.setViewportSize({ width: 390, height: 844 });
    await assertAccessible(page, "console admin: models, shadow", 390);
    await assertNoSidewaysScroll(page, "console admin: models, shadow");
    await page.setViewportSize({ width: 1280, height: 800 });
    await v2.locator('[data-action="shadow-stop"]').click();
    await v2.locator(".badge-shadow").waitFor({ state: "detached" });
    assert.equal(await v2.locator(".shadow").count(), 0);
    assert.equal((await models()).some((m) => m.shadow), false, "no model in shadow");

    // Promote, after a confirmation.
    await v2.locator('[data-action="promote"]').click();
    const dialog = page.locator("#confirm-dialog");
    await dialog.waitFor();
    assert.equal(await page.locator("#confirm-h").textContent(), "Promote #2?");
    assert.equal(await page.evaluate(() => document.activeElement.id), "confirm-cancel", "Cancel has the focus");
    await assertAccessible(page, "console promote dialog", 1280);
    await page.setViewportSize({ width: 390, height: 844 });
    await assertAccessible(page, "console promote dialog", 390);
    await assertNoSidewaysScroll(page, "console promote dialog");
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.click("#confirm-ok");
    await dialog.waitFor({ state: "hidden" });
    await v2.filter({ has: page.locator(".badge-live") }).waitFor();
    assert.equal(await v1.getAttribute("data-status"), "retired");
    assert.equal(await liveVersion(), candidate.version, "the server classifies with #2");

    // Roll back, after a confirmation: the shipped model is live again.
    const rollback = page.locator("#rollback-btn");
    await rollback.waitFor();
    await rollback.click();
    await dialog.waitFor();
    assert.equal(await page.locator("#confirm-h").textContent(), "Roll back?");
    await page.click("#confirm-ok");
    await dialog.waitFor({ state: "hidden" });
    await v1.filter({ has: page.locator(".badge-live") }).waitFor();
    assert.equal(await v2.getAttribute("data-status"), "retired");
    assert.equal(await rollback.isVisible(), false);
    assert.equal(await liveVersion(), shipped.version, "the server classifies with #1 again");
    assert.equal(await page.evaluate(() => document.activeElement.dataset.version), shipped.version, "the keyboard is on the live model");
    assertClean(problems);
    await context.close();
  });

  test("promote a model the gate rejected: the dialog lists the reasons and needs one; the server's refusal is shown", async () => {
    const { context, page, problems } = await fresh();
    const rejected = {
      version: "20990101-000000-rejected",
      number: 99,
      status: "rejected",
      shadow: false,
      created_at: Date.now() - 60000,
      examples: 2300,
      metrics: { macro_f1: 0.801, oos_recall: 0.7, answer_precision: 0.9, coverage: 0.6 },
      gate: {
        passed: false,
        reasons: ["macro-F1 fell from 0.943 to 0.801, more than the 0.020 allowed", "<b>order_status</b>: recall fell from 95 % to 60 %"],
        live_version: (await models()).find((m) => m.status === "live").version,
        live_metrics: { macro_f1: 0.943, oos_recall: 0.83, answer_precision: 0.96, coverage: 0.77 },
      },
      promoted_at: null,
    };
    // The list gets one more (stubbed) model; promoting it answers like a server whose
    // artefacts do not load.
    await page.route("**/api/v1/admin/models", async (route) => {
      const res = await route.fetch();
      const body = await res.json();
      body.models.unshift(rejected);
      await route.fulfill({ response: res, json: body });
    });
    const sent = [];
    await page.route(`**/api/v1/admin/models/${rejected.version}/promote`, async (route) => {
      sent.push(route.request().postDataJSON());
      await route.fulfill({ status: 422, json: { error: { code: "unloadable", message: "model 20990101-000000-rejected does not load: head.onnx is missing" } } });
    });
    problems.ignore.push(/status of 422/);
    await openModels(page, problems);
    const c = card(page, rejected.version);
    await c.waitFor();
    assert.equal(await c.locator(".badge-rejected").textContent(), "Rejected by the gate");
    assert.deepEqual(await c.locator(".gate-failed li").allTextContents(), rejected.gate.reasons, "the reasons, as text");
    assert.equal(await c.locator(".delta-down").count(), 4, "every figure fell");

    await c.locator('[data-action="promote"]').click();
    await page.locator("#confirm-dialog").waitFor();
    assert.equal(await page.locator("#confirm-h").textContent(), "Promote #99 anyway?");
    assert.equal(await page.evaluate(() => document.activeElement.id), "confirm-reason");
    assert.equal(await page.locator("#confirm-body li").count(), 2);
    await assertAccessible(page, "console promote-anyway dialog", 1280);
    await page.click("#confirm-ok");
    await page.locator("#confirm-error").filter({ hasText: "Give a reason" }).waitFor();
    assert.deepEqual(sent, [], "nothing sent without a reason");
    await page.fill("#confirm-reason", "The regression set is out of date for order questions.");
    await page.click("#confirm-ok");
    await page.locator("#confirm-error").filter({ hasText: "does not load: head.onnx is missing" }).waitFor();
    assert.deepEqual(sent, [{ override: true, reason: "The regression set is out of date for order questions." }]);
    await page.keyboard.press("Escape");
    await page.locator("#confirm-dialog").waitFor({ state: "hidden" });
    assert.equal(await page.locator(".model-card .badge-live").count(), 1, "the live model stays");
    assert.equal(await page.locator("b").count(), 0, "reasons are text");
    assertClean(problems);
    await context.close();
  });
});
