// The console's Insights page (admins), in headless Chromium against the real server: a few
// conversations played through the shopper API first, then the headline figures compared with
// the JSON the page read, every chart with a name and a data table, the intents table sorted
// by keyboard, the window picker with the server's refusals shown, drift in words, figures per
// model version, no sideways scrolling and no serious axe violation at 1280 and 390 px, and no
// page for an agent who is not an admin. Run with tests/browser/run.sh.

import assert from "node:assert/strict";
import { join } from "node:path";
import { before, describe, test } from "node:test";

import { assertAccessible, assertNoSidewaysScroll } from "./axe.mjs";
import { ADMIN, AGENT, ARTIFACTS, BASE, agentApi, apiConversation, assertClean, consoleLogin, useBrowser } from "./helpers.mjs";

const fresh = useBrowser();
const DAY_MS = 86_400_000;

// The page's ways of writing figures (web/console/format.js), to compare with the JSON.
const rate = (x) => (x == null ? "–" : `${(x * 100).toFixed(1)}%`);
function seconds(s) {
  if (s == null) return "–";
  if (s < 10) return `${(Math.round(s * 10) / 10).toFixed(1)}s`;
  const t = Math.floor(s);
  if (t < 60) return `${t}s`;
  const m = Math.floor(t / 60);
  if (m < 60) return `${m}m ${String(t % 60).padStart(2, "0")}s`;
  const hours = Math.floor(m / 60);
  return hours < 48 ? `${hours}h ${String(m % 60).padStart(2, "0")}m` : `${Math.floor(hours / 24)}d`;
}

/** A shopper message (a quick reply when `quickReply` is given): the turn's JSON. */
async function send(conv, text, quickReply) {
  const res = await fetch(`${BASE}/api/v1/conversations/${conv.id}/messages`, {
    method: "POST",
    headers: { Authorization: `Bearer ${conv.token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ text, client_message_id: crypto.randomUUID(), ...(quickReply ? { quick_reply: quickReply } : {}) }),
  });
  assert.equal(res.status, 200, `send "${text}"`);
  return res.json();
}

async function rateConversation(conv, score) {
  const res = await fetch(`${BASE}/api/v1/conversations/${conv.id}/rating`, {
    method: "POST",
    headers: { Authorization: `Bearer ${conv.token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ score }),
  });
  assert.equal(res.status, 200, `rating ${score}: ${await res.text()}`);
}

async function demoCustomerToken() {
  const res = await fetch(`${BASE}/api/v1/demo/identity`);
  assert.equal(res.status, 200, "the demo identity");
  return (await res.json()).customer_token;
}

/** Waits for the page's report of a breakdown (`by`), started by `action`: its JSON and query. */
async function reportOf(page, action, by = "day") {
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().includes("/api/v1/admin/metrics") && new URL(r.url()).searchParams.get("by") === by),
    action(),
  ]);
  return { status: res.status(), body: await res.json(), query: new URL(res.url()).searchParams };
}

/** Logs in as an admin and opens Insights from the navigation: the report by day it shows. */
async function openInsights(page, problems) {
  await consoleLogin(page, problems, ADMIN);
  const [versions, report] = await Promise.all([reportOf(page, async () => {}, "model_version"), reportOf(page, () => page.click("#nav-insights"))]);
  await page.locator("#ins-kpis .kpi").first().waitFor();
  await page.waitForFunction(() => !document.querySelector("#insights-view").hasAttribute("aria-busy"));
  return { report: report.body, query: report.query, versions: versions.body };
}

/** A screenshot of the whole Insights page (it scrolls inside the console, not the window). */
async function screenshotAll(page, name) {
  const size = page.viewportSize();
  const height = await page.evaluate(() => document.querySelector("#insights-view").scrollHeight + 60);
  await page.setViewportSize({ width: size.width, height: Math.max(size.height, height) });
  await page.screenshot({ path: join(ARTIFACTS, name) });
  await page.setViewportSize(size);
}

const figure = (page, key) => page.locator(`[data-figure="${key}"]`).textContent();
const openAllData = (page) => page.evaluate(() => document.querySelectorAll("#insights-view details").forEach((d) => (d.open = true)));

describe("insights", { concurrency: false }, () => {
  before(async () => {
    // Answered, and the shopper says it helped: resolved by the bot; rated 5.
    const confirmed = await apiConversation(await demoCustomerToken());
    await send(confirmed, "what is your return policy?");
    const yes = await send(confirmed, "Yes", "feedback:yes");
    assert.equal(yes.state, "resolved", JSON.stringify(yes));
    await rateConversation(confirmed, 5);

    // Asks for a person: an agent claims, replies and resolves; rated 4.
    const person = await apiConversation();
    const queued = await send(person, "I want to speak to a person");
    assert.equal(queued.state, "queued", JSON.stringify(queued));
    const agent = await agentApi(AGENT);
    const base = `/api/v1/agent/conversations/${person.id}`;
    for (const [path, body] of [["claim"], ["messages", { text: "Hi, Riley here. How can I help?" }], ["resolve"]]) {
      assert.equal((await agent.post(`${base}/${path}`, body)).status, 200, path);
    }
    await agent.dispose();
    await rateConversation(person, 4);

    // Something the bot does not do.
    await send(await apiConversation(), "what's the weather like in Paris tomorrow?");
  });

  test("the figures match the report: headline, charts with data tables, intents sorted by keyboard, drift, model versions (1280px)", async () => {
    const { context, page, problems } = await fresh({ width: 1280, height: 900 });
    const { report: r, query, versions } = await openInsights(page, problems);
    assert.equal(await page.evaluate(() => location.hash), "#/insights");
    assert.equal(await page.locator("#nav-insights").getAttribute("aria-current"), "page");
    assert.equal(await page.locator("#view-title").textContent(), "Insights");
    assert.equal(await page.locator('#ins-presets a[data-window="7d"]').getAttribute("aria-current"), "true");
    const span = Date.parse(query.get("to")) - Date.parse(query.get("from"));
    assert.equal(span, 7 * DAY_MS, "the last 7 days by default");

    // The conversations played are in it.
    assert.ok(r.conversations >= 3, `conversations: ${r.conversations}`);
    assert.ok(r.outcomes.bot_confirmed >= 1 && r.handoffs_by_reason.customer_requested >= 1, JSON.stringify(r));
    assert.ok(r.csat.ratings >= 2 && r.csat.by_score[4] >= 1 && r.csat.by_score[3] >= 1, JSON.stringify(r.csat));
    assert.ok(r.first_agent_reply_seconds.count >= 1, JSON.stringify(r.first_agent_reply_seconds));

    // Headline figures, as the JSON says.
    const expected = {
      conversations: String(r.conversations),
      messages: String(r.messages),
      automation_rate: rate(r.automation_rate.rate),
      automation_confirmed: rate(r.automation_rate.confirmed),
      automation_assumed: rate(r.automation_rate.assumed),
      handoff_rate: rate(r.handoff_rate),
      handoffs: String(r.handoffs),
      csat_rate: rate(r.csat.rate),
      csat_ratings: String(r.csat.ratings),
      recontact_rate: rate(r.recontact_rate_24h),
      could_have_answered: String(r.could_have_answered.handoffs),
      could_have_answered_rate: rate(r.could_have_answered.rate),
      first_reply_median: seconds(r.first_agent_reply_seconds.median),
      first_reply_p90: seconds(r.first_agent_reply_seconds.p90),
      first_reply_count: String(r.first_agent_reply_seconds.count),
      resolution_median: seconds(r.resolution_seconds.median),
      resolution_p90: seconds(r.resolution_seconds.p90),
      resolution_count: String(r.resolution_seconds.count),
    };
    for (const [key, text] of Object.entries(expected)) assert.equal(await figure(page, key), text, key);
    assert.match(expected.automation_rate, /^\d+\.\d%$/, "a rate with one decimal");

    // Every chart: an image with a name, and a table of its data.
    const charts = page.locator("#insights-view figure.chart");
    assert.deepEqual(await charts.evaluateAll((fs) => fs.map((f) => f.dataset.chart)), ["days", "reasons", "reply-times", "ratings", "confidence"]);
    for (const chart of await charts.all()) {
      const id = await chart.getAttribute("data-chart");
      const svg = chart.locator("svg.chart-svg");
      assert.equal(await svg.getAttribute("role"), "img", id);
      assert.ok(((await svg.getAttribute("aria-label")) || "").length > 20, `${id}: the chart has a name`);
      assert.ok(await svg.getAttribute("viewBox"), `${id}: the chart scales with its viewBox`);
      assert.equal(await chart.locator("details table").count(), 1, `${id}: a data table`);
      await chart.locator("details > summary").click();
      assert.ok(await chart.locator("details table").isVisible(), `${id}: the data table opens`);
    }
    const cell = async (chart, row, col) => page.locator(`figure[data-chart="${chart}"] tbody tr`).filter({ has: page.locator("th", { hasText: row }) }).locator("td").nth(col).textContent();
    assert.equal(await cell("reasons", "Asked for a person", 0), String(r.handoffs_by_reason.customer_requested));
    assert.equal(await cell("ratings", "5 stars", 0), String(r.csat.by_score[4]));
    assert.equal(await cell("ratings", "4 stars", 0), String(r.csat.by_score[3]));
    assert.equal(await page.locator('figure[data-chart="reply-times"] tbody tr').count(), r.first_agent_reply_distribution.length);
    assert.equal(await cell("reply-times", "Within 30 s", 0), String(r.first_agent_reply_distribution[0].handoffs));
    const days = await page.locator('figure[data-chart="days"] tbody tr').count();
    assert.equal(days, r.groups.length, "a row per day");
    assert.ok(days >= 7 && days <= 8, `the UTC days of a 7-day window: ${days}`);
    const automation = await page.locator('figure[data-chart="days"] tbody tr').evaluateAll((rows) => rows.map((tr) => tr.cells[2].textContent));
    assert.deepEqual(automation, r.groups.map((g) => rate(g.automation_rate.rate)), "the automation rate of each day");
    await screenshotAll(page, "console-insights.png");
    await assertAccessible(page, "console insights (data open)", 1280);
    await assertNoSidewaysScroll(page, "console insights");

    // Intents: sorted by volume first; Tab to "Fallback rate", Enter sorts highest first,
    // Space turns it round; the keyboard stays on the button.
    const rateOf = new Map(r.intents.map((i) => [i.intent, i.fallback_rate]));
    const order = () => page.locator("#intents-table tbody tr").evaluateAll((rows) => rows.map((tr) => tr.dataset.intent));
    assert.equal(await page.locator('#intents-table th[data-sort="volume"]').getAttribute("aria-sort"), "descending");
    assert.deepEqual(await order(), r.intents.map((i) => i.intent), "by volume, as the server sends them");
    await page.locator('#intents-table button[data-sort="volume"]').focus();
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement.dataset.sort), "fallback_rate");
    const sorted = async (dir) => {
      const rates = (await order()).map((i) => rateOf.get(i)).filter((x) => x != null);
      for (let i = 1; i < rates.length; i++) assert.ok(dir === "descending" ? rates[i - 1] >= rates[i] : rates[i - 1] <= rates[i], `${dir}: ${rates}`);
    };
    await page.keyboard.press("Enter");
    assert.equal(await page.locator('#intents-table th[data-sort="fallback_rate"]').getAttribute("aria-sort"), "descending");
    assert.equal(await page.locator('#intents-table th[data-sort="volume"]').getAttribute("aria-sort"), null);
    await sorted("descending");
    await page.keyboard.press("Space");
    assert.equal(await page.locator('#intents-table th[data-sort="fallback_rate"]').getAttribute("aria-sort"), "ascending");
    await sorted("ascending");
    assert.equal(await page.evaluate(() => document.activeElement.dataset.sort), "fallback_rate", "the keyboard stays on the button");
    for (const i of r.intents) {
      const row = page.locator(`#intents-table tbody tr[data-intent="${i.intent}"]`);
      assert.equal(await row.locator("td").nth(0).textContent(), String(i.volume), i.intent);
      assert.equal(await row.locator("td").nth(2).textContent(), rate(i.fallback_rate), i.intent);
    }

    // Drift: each PSI's level in words (not colour alone), or "–" with the server's note.
    const words = { stable: "Stable", moderate: "Moderate shift", drift: "Drift" };
    for (const key of ["confidence", "intent_mix"]) {
      const psi = r.drift[key];
      const badge = page.locator(`[data-psi="${key}"]`);
      if (psi) {
        assert.equal(await badge.getAttribute("data-level"), psi.level);
        assert.match(await badge.locator(".psi-level").textContent(), new RegExp(`${words[psi.level]}$`));
        assert.match(await badge.textContent(), new RegExp(`PSI ${psi.psi.toFixed(3)}`));
      } else {
        assert.match(await badge.textContent(), /–/);
        assert.ok(r.drift.note, "a note says why there is no PSI");
      }
    }
    assert.equal(await page.locator('figure[data-chart="confidence"] tbody tr').count(), 10);

    // Per model version, side by side: a column for each group of the by=model_version report.
    assert.ok(versions.groups.length >= 1, JSON.stringify(versions));
    assert.equal(await page.locator("#versions-table thead th[data-version]").count(), versions.groups.length);
    const conversationsRow = page.locator("#versions-table tbody tr").filter({ has: page.locator("th", { hasText: /^Conversations$/ }) });
    assert.deepEqual(await conversationsRow.locator("td").allTextContents(), versions.groups.map((g) => String(g.conversations)));
    assertClean(problems);
    await context.close();
  });

  test("the window picker: presets, chosen days, the server's refusals, a window without conversations", async () => {
    const { context, page, problems } = await fresh({ width: 1280, height: 900 });
    problems.ignore.push(/status of 400 \(Bad Request\)/); // the refusals this test asks for
    await openInsights(page, problems);

    const month = await reportOf(page, () => page.click('#ins-presets a[data-window="30d"]'));
    assert.equal(month.status, 200);
    assert.equal(Date.parse(month.query.get("to")) - Date.parse(month.query.get("from")), 30 * DAY_MS);
    assert.equal(await page.evaluate(() => location.hash), "#/insights/30d");
    assert.equal(await page.locator('#ins-presets a[data-window="30d"]').getAttribute("aria-current"), "true");
    assert.equal(await page.locator('#ins-presets a[data-window="7d"]').getAttribute("aria-current"), null);
    await page.locator("#ins-window").filter({ hasText: "Last 30 days" }).waitFor();

    // More than the server allows: its message, and no stale figures.
    await page.fill("#ins-from", "2024-01-01");
    await page.fill("#ins-to", "2026-01-01");
    const long = await reportOf(page, () => page.click('#ins-range button[type="submit"]'));
    assert.equal(long.status, 400);
    assert.equal(long.query.get("to"), "2026-01-02", "the last day is included");
    const error = page.locator("#ins-error");
    await error.waitFor();
    assert.equal(await error.getAttribute("role"), "alert");
    assert.ok((await error.textContent()).includes(long.body.error.message), await error.textContent());
    assert.equal(await page.locator("#ins-body").isHidden(), true);
    await assertAccessible(page, "console insights: server error", 1280);

    // A typed address the server cannot read: its words again.
    const typed = await reportOf(page, () => page.evaluate(() => (location.hash = "#/insights/yesterday/today")));
    assert.equal(typed.status, 400);
    await error.filter({ hasText: "is not an ISO-8601 time" }).waitFor();

    // The first day after the last: said at once, on the field.
    await page.fill("#ins-from", "2026-03-10");
    await page.fill("#ins-to", "2026-03-01");
    await page.click('#ins-range button[type="submit"]');
    await error.filter({ hasText: "The first day is after the last day." }).waitFor();
    assert.equal(await page.locator("#ins-from").getAttribute("aria-invalid"), "true");
    assert.equal(await page.evaluate(() => document.activeElement.id), "ins-from");

    // Days long before the server existed: no conversations, so no rates, and why.
    await page.fill("#ins-from", "2020-01-01");
    await page.fill("#ins-to", "2020-01-07");
    const empty = await reportOf(page, () => page.click('#ins-range button[type="submit"]'));
    assert.equal(empty.status, 200);
    assert.equal(empty.body.conversations, 0);
    await page.locator("#ins-body").waitFor();
    assert.equal(await page.locator("#ins-error").isHidden(), true, "the error is gone");
    assert.equal(await page.evaluate(() => location.hash), "#/insights/2020-01-01/2020-01-07");
    assert.equal(await figure(page, "automation_rate"), "–");
    assert.equal(await figure(page, "handoff_rate"), "–");
    assert.match(await page.locator('[data-kpi="automation"]').textContent(), /No conversations in this window/);
    assert.match(await page.locator('[data-kpi="csat"]').textContent(), /No ratings in this window/);
    assert.equal(await figure(page, "first_reply_median"), "–");
    assert.match(await page.locator('[data-kpi="first-reply"]').textContent(), /No agent replies in this window/);
    assert.equal(await page.locator('figure[data-chart="days"] tbody tr').count(), 7);
    await page.screenshot({ path: join(ARTIFACTS, "console-insights-empty.png") });
    await assertAccessible(page, "console insights: empty window", 1280);
    assertClean(problems);
    await context.close();
  });

  test("at 390px: nothing scrolls sideways, charts fit, every data table readable, no serious axe violation", async () => {
    const { context, page, problems } = await fresh({ width: 390, height: 844 });
    await openInsights(page, problems);
    for (const sel of ["#nav-inbox", "#nav-insights", "#nav-admin", "#logout-btn"]) {
      const box = await page.locator(sel).boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= 390, `${sel} is on screen: ${JSON.stringify(box)}`);
    }
    await openAllData(page);
    const overflow = await page.evaluate(() => {
      const view = document.querySelector("#insights-view");
      const right = view.getBoundingClientRect().right;
      return {
        page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
        view: view.scrollWidth - view.clientWidth,
        outside: [...view.querySelectorAll(".chart-svg, .kpi, .psi, .admin-section")].filter((el) => el.getBoundingClientRect().right > right + 0.5).map((el) => el.className.baseVal ?? el.className),
      };
    });
    assert.deepEqual(overflow, { page: 0, view: 0, outside: [] });
    await screenshotAll(page, "console-insights-390.png");
    await assertAccessible(page, "console insights (data open)", 390);
    assertClean(problems);
    await context.close();
  });

  test("an agent who is not an admin has no Insights: no link, the address shows the inbox, the API says no", async () => {
    const { context, page, problems } = await fresh({ width: 1280, height: 800 });
    await consoleLogin(page, problems, AGENT);
    assert.equal(await page.locator("#nav-insights").isVisible(), false, "no Insights link");
    await page.evaluate(() => (location.hash = "#/insights/30d"));
    await page.waitForFunction(() => document.querySelector("#view-title").textContent === "Inbox");
    assert.equal(await page.locator("#insights-view").isHidden(), true);
    assert.equal(await page.locator("#inbox-view").isVisible(), true);
    const agent = await agentApi(AGENT);
    const res = await agent.get("/api/v1/admin/metrics");
    await agent.dispose();
    assert.equal(res.status, 403, JSON.stringify(res.body));
    assertClean(problems);
    await context.close();
  });
});
